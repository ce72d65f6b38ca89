#include "e2e/fault_matrix.hpp"

#include "fakes/temp_dir.hpp"
#include "util/strings.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace secrun::e2e::faults
{

using testing::FakeCloudProcess;

namespace
{

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string replace_all(std::string text, std::string_view from, std::string_view to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

std::string expand(std::string text, const Endpoints& at)
{
    text = replace_all(std::move(text), "{https}", at.cloud.https_url());
    text = replace_all(std::move(text), "{http}", at.cloud.http_url());
    text = replace_all(std::move(text), "{localhost}", at.cloud.https_localhost_url());
    text = replace_all(std::move(text), "{refused}", at.refused);
    return replace_all(std::move(text), "{print_env}", helper("print_env"));
}

// Whether `line` matches `pattern`, in which "..." stands for any text.
bool matches(std::string_view line, std::string_view pattern)
{
    const auto star = pattern.find("...");
    if (star == std::string_view::npos)
        return line == pattern;
    const std::string_view head = pattern.substr(0, star);
    if (line.substr(0, head.size()) != head)
        return false;
    const std::string_view rest = pattern.substr(star + 3);
    for (std::size_t from = head.size(); from <= line.size(); ++from)
        if (matches(line.substr(from), rest))
            return true;
    return false;
}

bool has_line(const std::string& err, const std::string& pattern)
{
    for (const auto& line : lines_of(err))
        if (matches(line, pattern))
            return true;
    return false;
}

void expect_nothing_secret(const Backend& backend, const std::string& text, std::string_view what)
{
    for (const auto& secret : backend.secrets)
        BOOST_TEST(!contains(text, secret), what << " holds '" << secret << "':\n" << text);
}

void check_run(const Backend& backend, const Row& row, const Run& r, const Endpoints& at,
               const std::filesystem::path& child_file);

void run_row(const Backend& backend, const Row& row)
{
    const auto& scenario = row.scenario ? row.scenario : backend.scenario;
    FakeCloudProcess cloud({.scenario = scenario(row.faults), .cert = row.cert});
    const Endpoints at{cloud, util::str_cat("127.0.0.1:", std::to_string(refused_port()))};
    testing::TempDir dir("e2e-faults");
    EnvMap env = base_env();
    env.set("HOME", dir.path().string()); // no ~/.aws, ~/.azure, ~/.doppler
    backend.configure(env, cloud);
    if (row.adjust)
        row.adjust(env, at);

    const auto child_file = dir / "child.env0";
    std::vector<std::string> args{"-v", "--timeout", row.timeout, "--retries",
                                  std::to_string(row.retries)};
    if (!backend.manifest.empty())
        args.insert(args.end(), {"-m", dir.write("secrets.manifest", backend.manifest).string()});
    args.insert(args.end(), {"--", helper("print_env"), child_file.string()});
    // The harness's limit is far above every --timeout: secrun hanging past
    // its deadline fails the row there (run_secrun throws), a slow machine
    // does not. No row asserts a duration.
    const Run r = run_secrun(args, env, dir.path(), std::chrono::seconds(60));

    BOOST_TEST_CONTEXT("stderr:\n" << r.err << "server log:\n" << cloud.log())
    {
        check_run(backend, row, r, at, child_file);
    }
}

void check_run(const Backend& backend, const Row& row, const Run& r, const Endpoints& at,
               const std::filesystem::path& child_file)
{
    expect_nothing_secret(backend, r.out, "stdout");
    expect_nothing_secret(backend, r.err, "stderr");
    BOOST_TEST(r.out == ""); // print_env writes to its file
    if (row.runs) {
        BOOST_TEST(r.status == 0);
        BOOST_TEST(std::filesystem::exists(child_file));
        const auto seen = parse_env0(read_file(child_file));
        for (const auto& [name, value] : backend.values) {
            const auto found = seen.find(name);
            BOOST_TEST((found != seen.end() && found->second == value), name << " in the command");
        }
    } else {
        BOOST_TEST(r.status == 125);
        BOOST_TEST(!std::filesystem::exists(child_file)); // the command never ran
    }
    for (const auto& line : row.lines) {
        const std::string expected = expand(line, at);
        BOOST_TEST(has_line(r.err, expected), "stderr has no line " << expected);
    }
    if (row.requests)
        BOOST_TEST(at.cloud.requests(backend.method, backend.path) == *row.requests);
    if (row.check)
        row.check(at.cloud);
}

} // namespace

std::string rule(std::string_view method, std::string_view path, std::string_view options,
                 int count)
{
    return util::str_cat(R"({"method": ")", method, R"(", "path": ")", path, R"(", "count": )",
                         std::to_string(count), ", ", options, "}");
}

unsigned short refused_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    // Closed without listen(): a connection to it is refused. The kernel
    // hands out ephemeral ports in turn, so it is not reused at once.
    ::close(fd);
    if (!ok)
        throw std::runtime_error("bind to a loopback port failed");
    return ntohs(addr.sin_port);
}

void run_matrix(const Backend& backend, const std::vector<Row>& table)
{
    for (const Row& row : table)
        BOOST_TEST_CONTEXT(backend.name << ": " << row.name)
        {
            run_row(backend, row);
        }
}

} // namespace secrun::e2e::faults
