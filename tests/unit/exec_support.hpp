// Test support for the exec and init tests: forked children, temporary
// directories, files. A test that execs or changes signal state does it in a
// forked child, so the test runner itself is never replaced or disturbed.
#pragma once

#include "exec/environment.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace secrun::testing {

/// An ExecEnvironment holding exactly `vars`.
inline exec::ExecEnvironment make_env(const std::vector<std::pair<std::string, std::string>>& vars)
{
    EnvMap inherited;
    for (const auto& [name, value] : vars)
        inherited.set(name, value);
    auto env = exec::build_environment(inherited, SecretMap{}, exec::EnvPolicy{});
    if (!env)
        throw std::runtime_error(env.error().message);
    return std::move(*env);
}

/// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "secrun-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir()
    {
        std::error_code ec;
        // Make everything removable again (tests chmod things 0400/0000).
        for (auto& entry : std::filesystem::recursive_directory_iterator(path_, ec))
            std::filesystem::permissions(entry.path(), std::filesystem::perms::owner_all,
                                         std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(path_, ec);
    }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    [[nodiscard]] std::string operator/(const std::string& name) const
    {
        return (path_ / name).string();
    }

private:
    std::filesystem::path path_;
};

inline std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& text, mode_t mode)
{
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
    }
    std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
}

/// Polls until `file` contains `text` (a helper reached a point), up to 10 s.
inline bool wait_for_text(const std::string& file, const std::string& text)
{
    for (int i = 0; i < 1000; ++i) {
        if (read_file(file).find(text) != std::string::npos)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

/// What a forked child left: its wait status and everything it wrote to stderr.
struct ChildResult {
    int wait_status = -1;
    std::string err;
    bool timed_out = false;

    [[nodiscard]] bool exited() const { return !timed_out && WIFEXITED(wait_status); }
    [[nodiscard]] int exit_code() const { return exited() ? WEXITSTATUS(wait_status) : -1; }
};

/// A forked child. If a test stops before finish() (a failed REQUIRE), the
/// destructor kills and reaps it, so nothing is left running.
class Child {
public:
    Child(pid_t pid, int stderr_fd) : pid_(pid), stderr_fd_(stderr_fd) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child()
    {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (stderr_fd_ >= 0)
            ::close(stderr_fd_);
    }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    /// Waits for the child (up to `timeout`, then SIGKILL) and collects stderr.
    ChildResult finish(std::chrono::seconds timeout = std::chrono::seconds(30))
    {
        ChildResult result;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        bool eof = false;
        while (pid_ > 0) {
            if (!eof) {
                pollfd p{stderr_fd_, POLLIN, 0};
                if (::poll(&p, 1, 10) > 0 && !read_some(result.err))
                    eof = true;
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            if (::waitpid(pid_, &result.wait_status, WNOHANG) == pid_) {
                pid_ = -1;
            } else if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &result.wait_status, 0);
                result.timed_out = true;
                pid_ = -1;
            }
        }
        // Whatever is still buffered (a grandchild may hold the pipe open).
        ::fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);
        while (read_some(result.err)) {
        }
        ::close(stderr_fd_);
        stderr_fd_ = -1;
        return result;
    }

private:
    // Appends what can be read; false at end of file or on an error.
    bool read_some(std::string& out)
    {
        char buf[4096];
        ssize_t n = 0;
        do {
            n = ::read(stderr_fd_, buf, sizeof buf);
        } while (n < 0 && errno == EINTR);
        if (n <= 0)
            return false;
        out.append(buf, static_cast<std::size_t>(n));
        return true;
    }

    pid_t pid_;
    int stderr_fd_;
};

/// Forks; the child runs `body` with stdout on /dev/null and stderr going to
/// a pipe, and _exits with its return value (99 on an exception). It never
/// returns into the runner, and nothing it leaves behind holds the runner's
/// stdout.
inline std::unique_ptr<Child> start_forked(const std::function<int()>& body)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2 failed");
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        ::dup2(null_fd, STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO); // dup2 clears FD_CLOEXEC on the copies
        int code = 99;
        try {
            code = body();
        } catch (...) {
        }
        std::fflush(nullptr);
        ::_exit(code);
    }
    ::close(fds[1]);
    return std::make_unique<Child>(pid, fds[0]);
}

inline ChildResult run_forked(const std::function<int()>& body)
{
    return start_forked(body)->finish();
}

/// Resets the signal state a forked child inherited from the runner: empty
/// mask, every action SIG_DFL. Tests then set exactly what they need.
inline void reset_signals()
{
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < SIGRTMIN))
            continue;
        ::signal(sig, SIG_DFL);
    }
}

/// Makes a forked child independent of the runner's terminal: a session of
/// its own (no controlling terminal) and stdin from /dev/null, so results do
/// not depend on whether the tests run from an interactive shell.
inline void detach_from_terminal()
{
    ::setsid();
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::dup2(null_fd, STDIN_FILENO);
    ::close(null_fd);
}

} // namespace secrun::testing
