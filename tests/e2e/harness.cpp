#include "e2e/harness.hpp"

#include "fakes/run_awaitable.hpp"
#include "util/subprocess.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

namespace secrun::e2e {

std::string secrun_binary() { return SECRUN_BINARY; }

std::string helper(std::string_view name)
{
    return (std::filesystem::path(SECRUN_HELPERS_DIR) / name).string();
}

EnvMap base_env() { return EnvMap(EnvMap::Map{{"PATH", "/usr/bin:/bin"}}); }

Run run_secrun(const std::vector<std::string>& args, const EnvMap& env,
               const std::filesystem::path& cwd, std::chrono::milliseconds timeout)
{
    std::vector<std::string> argv{secrun_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = testing::run(util::run_subprocess(std::move(argv), env, {timeout, 8 << 20},
                                                    cwd.string()));
    if (!result)
        throw std::runtime_error("running secrun: " + result.error().message);
    Run run;
    // Boost.Process reports a death by signal N as 128+N? It reports the raw
    // status decoded by WEXITSTATUS/WTERMSIG; normalise to the shell's form.
    run.status = result->exit_code;
    run.out = result->out;
    run.err = result->err;
    return run;
}

namespace {

std::string slurp(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// posix_spawn's attributes and file actions, released on every path.
struct SpawnSetup {
    posix_spawnattr_t attr{};
    posix_spawn_file_actions_t actions{};

    SpawnSetup()
    {
        ::posix_spawnattr_init(&attr);
        ::posix_spawn_file_actions_init(&actions);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
    ~SpawnSetup()
    {
        ::posix_spawn_file_actions_destroy(&actions);
        ::posix_spawnattr_destroy(&attr);
    }
};

void check(int rc, const char* what)
{
    if (rc != 0)
        throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

} // namespace

Background::Background(pid_t pid, testing::TempDir output)
    : pid_(pid), output_(std::move(output))
{
}

Background::~Background()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
}

Run Background::finish(std::chrono::milliseconds timeout)
{
    if (pid_ <= 0)
        throw std::logic_error("Background::finish called twice");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int wait_status = 0;
    for (;;) {
        const pid_t done = ::waitpid(pid_, &wait_status, WNOHANG);
        if (done == pid_)
            break;
        if (done < 0 && errno != EINTR)
            throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
            throw std::runtime_error("the process did not exit within " +
                                     std::to_string(timeout.count()) + " ms (killed it)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    Run run;
    run.status = WIFEXITED(wait_status)     ? WEXITSTATUS(wait_status)
                 : WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status)
                                            : -1;
    run.out = slurp(output_ / "stdout");
    run.err = slurp(output_ / "stderr");
    return run;
}

std::unique_ptr<Background> spawn(const std::vector<std::string>& argv, const EnvMap& env,
                                  const std::filesystem::path& cwd)
{
    testing::TempDir output("e2e-output");
    const std::string out_path = (output / "stdout").string();
    const std::string err_path = (output / "stderr").string();

    SpawnSetup setup;
    sigset_t none;
    sigset_t all;
    ::sigemptyset(&none);
    ::sigfillset(&all);
    check(::posix_spawnattr_setsigmask(&setup.attr, &none), "posix_spawnattr_setsigmask");
    check(::posix_spawnattr_setsigdefault(&setup.attr, &all), "posix_spawnattr_setsigdefault");
    check(::posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
          "posix_spawnattr_setflags");
    check(::posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0),
          "posix_spawn_file_actions_addopen");
    check(::posix_spawn_file_actions_addopen(&setup.actions, 1, out_path.c_str(),
                                             O_WRONLY | O_CREAT | O_TRUNC, 0600),
          "posix_spawn_file_actions_addopen");
    check(::posix_spawn_file_actions_addopen(&setup.actions, 2, err_path.c_str(),
                                             O_WRONLY | O_CREAT | O_TRUNC, 0600),
          "posix_spawn_file_actions_addopen");
    if (!cwd.empty())
        check(::posix_spawn_file_actions_addchdir_np(&setup.actions, cwd.c_str()),
              "posix_spawn_file_actions_addchdir_np");

    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> entries;
    for (const auto& [name, value] : env.vars())
        entries.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& e : entries)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = -1;
    check(::posix_spawn(&pid, args.at(0), &setup.actions, &setup.attr, args.data(), envp.data()),
          "posix_spawn");
    return std::make_unique<Background>(pid, std::move(output));
}

std::unique_ptr<Background> spawn_secrun(const std::vector<std::string>& args, const EnvMap& env,
                                         const std::filesystem::path& cwd)
{
    std::vector<std::string> argv{secrun_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn(argv, env, cwd);
}

std::map<std::string, std::string> parse_env0(const std::string& bytes)
{
    std::map<std::string, std::string> vars;
    std::size_t start = 0;
    while (start < bytes.size()) {
        auto end = bytes.find('\0', start);
        if (end == std::string::npos)
            end = bytes.size();
        const std::string entry = bytes.substr(start, end - start);
        const auto eq = entry.find('=');
        if (eq != std::string::npos)
            vars.emplace(entry.substr(0, eq), entry.substr(eq + 1));
        start = end + 1;
    }
    return vars;
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

} // namespace secrun::e2e
