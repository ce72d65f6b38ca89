#include "fake_cloud_process.hpp"

#include "test_ca.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
// Boost.Process v2 with std::filesystem, as secrun_core uses it (one
// configuration per binary). In 1.81 its config header needs these first.
#include <boost/optional.hpp>
#include <boost/type_traits.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#ifndef SECRUN_FAKE_CLOUD_PATH
#error "SECRUN_FAKE_CLOUD_PATH must name the secrun_fake_cloud executable (set by CMake)"
#endif

namespace secrun::testing
{

namespace bp = boost::process::v2;
using namespace std::chrono_literals;

struct FakeCloudProcess::Child {
    boost::asio::io_context ioc;
    std::optional<bp::process> process;
};

namespace
{

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {};
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// An fd for the child's stdin or stderr; the parent's copy is closed after the spawn.
class Fd
{
public:
    Fd(const std::filesystem::path& path, int flags) : fd_(::open(path.c_str(), flags, 0600))
    {
        if (fd_ < 0) {
            const std::error_code ec(errno, std::system_category());
            throw std::runtime_error("open " + path.string() + ": " + ec.message());
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { ::close(fd_); }
    [[nodiscard]] int get() const noexcept { return fd_; }

private:
    int fd_;
};

std::uint64_t as_count(const boost::json::value* v)
{
    if (!v)
        return 0;
    if (v->is_uint64())
        return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0)
        return static_cast<std::uint64_t>(v->get_int64());
    return 0;
}

} // namespace

std::filesystem::path fake_cloud_executable()
{
    return SECRUN_FAKE_CLOUD_PATH;
}

const std::filesystem::path& shared_certs_dir()
{
    static const TempDir dir("certs");
    static const bool generated = [] {
        if (auto error = fakes::ensure_test_certs(dir.path()))
            throw std::runtime_error(*error);
        return true;
    }();
    (void)generated;
    return dir.path();
}

FakeCloudProcess::FakeCloudProcess(FakeCloudOptions options)
    : work_("fake-cloud"),
      certs_dir_(options.certs_dir.empty() ? shared_certs_dir() : options.certs_dir),
      child_(std::make_unique<Child>())
{
    const auto scenario = work_.write("scenario.json", options.scenario);
    const auto ready = work_ / "ready.json";
    const auto stats_file = work_ / "stats.json";

    std::vector<std::string> args{"--certs",    certs_dir_.string(), "--cert",  options.cert,
                                  "--scenario", scenario.string(),   "--stats", stats_file.string(),
                                  "--ready",    ready.string()};
    if (options.log_requests)
        args.emplace_back("--log-requests");

    {
        const Fd null_in("/dev/null", O_RDONLY | O_CLOEXEC);
        const Fd log_out(work_ / "server.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
        child_->process.emplace(child_->ioc, fake_cloud_executable().string(), args,
                                bp::process_stdio{null_in.get(), log_out.get(), log_out.get()});
    }

    // Wait for the ready file, or for the server to give up.
    const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
    for (;;) {
        if (std::filesystem::exists(ready)) {
            boost::system::error_code ec;
            const auto value = boost::json::parse(read_text(ready), ec);
            if (!ec && value.is_object()) {
                const auto& o = value.get_object();
                https_port_ = static_cast<unsigned short>(as_count(o.if_contains("https_port")));
                http_port_ = static_cast<unsigned short>(as_count(o.if_contains("http_port")));
                proxy_port_ = static_cast<unsigned short>(as_count(o.if_contains("proxy_port")));
                if (https_port_ && http_port_ && proxy_port_)
                    return;
            }
        }
        boost::system::error_code ec;
        if (!child_->process->running(ec)) {
            exit_status_ = child_->process->exit_code();
            throw std::runtime_error("secrun_fake_cloud exited with status " +
                                     std::to_string(*exit_status_) + " before it was ready:\n" +
                                     log());
        }
        if (std::chrono::steady_clock::now() > deadline) {
            stop();
            throw std::runtime_error("secrun_fake_cloud was not ready after " +
                                     std::to_string(options.ready_timeout.count()) + " ms:\n" +
                                     log());
        }
        std::this_thread::sleep_for(10ms);
    }
}

FakeCloudProcess::~FakeCloudProcess()
{
    try {
        stop();
    } catch (...) { // a destructor reports nothing; the test has its verdict already
    }
}

int FakeCloudProcess::stop()
{
    if (exit_status_)
        return *exit_status_;
    auto& process = *child_->process;
    boost::system::error_code ec;
    process.request_exit(ec); // SIGTERM
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (process.running(ec) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    if (process.running(ec)) {
        process.terminate(ec); // SIGKILL
        exit_status_ = 128 + 9;
        return *exit_status_;
    }
    exit_status_ = process.exit_code();
    return *exit_status_;
}

std::string FakeCloudProcess::https_url() const
{
    return "https://127.0.0.1:" + std::to_string(https_port_);
}

std::string FakeCloudProcess::https_localhost_url() const
{
    return "https://localhost:" + std::to_string(https_port_);
}

std::string FakeCloudProcess::http_url() const
{
    return "http://127.0.0.1:" + std::to_string(http_port_);
}

std::string FakeCloudProcess::https_proxied_url(std::string_view label) const
{
    return "https://" + std::string(label) + ".fake-cloud.test:" + std::to_string(https_port_);
}

std::string FakeCloudProcess::proxy_url() const
{
    return "http://127.0.0.1:" + std::to_string(proxy_port_);
}

std::filesystem::path FakeCloudProcess::ca_file() const
{
    return certs_dir_ / fakes::CertNames::ca;
}

std::filesystem::path FakeCloudProcess::client_pem() const
{
    return certs_dir_ / fakes::CertNames::client_bundle;
}

boost::json::object FakeCloudProcess::stats() const
{
    const std::filesystem::path file = work_ / "stats.json";
    boost::system::error_code ec;
    auto value = boost::json::parse(read_text(file), ec);
    if (ec || !value.is_object())
        throw std::runtime_error("cannot read " + file.string() + ": " +
                                 (ec ? ec.message() : "not a JSON object"));
    return std::move(value.get_object());
}

std::uint64_t FakeCloudProcess::requests(std::string_view method, std::string_view path) const
{
    const auto s = stats();
    const auto* requests = s.if_contains("requests");
    if (!requests || !requests->is_object())
        return 0;
    const std::string key = std::string(method) + " " + std::string(path);
    return as_count(requests->get_object().if_contains(key));
}

std::uint64_t FakeCloudProcess::counter(std::string_view name) const
{
    const auto s = stats();
    for (std::string_view group : {"vendor", "connections"}) {
        const std::string prefix = std::string(group) + ".";
        if (name.substr(0, prefix.size()) == prefix) {
            const auto* g = s.if_contains(group);
            if (!g || !g->is_object())
                return 0;
            return as_count(g->get_object().if_contains(name.substr(prefix.size())));
        }
    }
    return as_count(s.if_contains(name));
}

bool FakeCloudProcess::wait_for(const std::function<bool(const boost::json::object&)>& done,
                                std::chrono::milliseconds timeout) const
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done(stats()))
            return true;
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(5ms);
    }
}

std::string FakeCloudProcess::log() const
{
    return read_text(work_ / "server.log");
}

} // namespace secrun::testing
