#include "exec/exec.hpp"

#include "exec/path_search.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace secrun::exec {
namespace {

// glibc reserves the first two real-time signals for itself (thread
// cancellation, setxid) and refuses sigaction on them; SIGRTMIN is the first
// one it leaves to programs.
bool has_action(int sig) noexcept
{
    if (sig == SIGKILL || sig == SIGSTOP)
        return false;
    return sig < 32 || sig >= SIGRTMIN;
}

Error errno_error(std::string_view what, int err)
{
    return Error(Errc::internal, util::str_cat(what, ": ", std::strerror(err)));
}

// The SigIgn mask of /proc/self/status (bit sig-1 set: ignored). Reads into
// a stack buffer and allocates nothing: restore() runs between fork and exec.
bool read_ignored(std::uint64_t& out) noexcept
{
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char text[8192];
    std::size_t size = 0;
    while (size < sizeof text - 1) {
        const ssize_t n = ::read(fd, text + size, sizeof text - 1 - size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text[size] = '\0';
    const char* line = std::strstr(text, "\nSigIgn:\t");
    if (line == nullptr)
        return false;
    const char* p = line + 9;
    std::uint64_t mask = 0;
    int digits = 0;
    for (; *p != '\n' && *p != '\0'; ++p, ++digits) {
        const char c = *p;
        const int v = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
        if (v < 0 || digits == 16)
            return false;
        mask = (mask << 4) | static_cast<std::uint64_t>(v);
    }
    if (digits == 0)
        return false;
    out = mask;
    return true;
}

} // namespace

SignalState SignalState::capture() noexcept
{
    SignalState state;
    ::sigprocmask(SIG_SETMASK, nullptr, &state.mask_);
    if (read_ignored(state.ignored_)) {
        state.from_proc_ = true;
        return state;
    }
    for (int sig = 1; sig < NSIG; ++sig) {
        const auto i = static_cast<std::size_t>(sig);
        if (has_action(sig))
            state.recorded_[i] = ::sigaction(sig, nullptr, &state.actions_[i]) == 0;
    }
    return state;
}

Result<void> SignalState::restore() const
{
    const auto failed = [](int sig) {
        const int err = errno;
        return errno_error(
            util::str_cat("cannot restore the action of signal ", std::to_string(sig)), err);
    };
    if (from_proc_) {
        // Unreadable now (unlikely, it was at capture): set every signal.
        std::uint64_t now = 0;
        const bool known = read_ignored(now);
        for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
            if (!has_action(sig))
                continue;
            const std::uint64_t bit = std::uint64_t{1} << (sig - 1);
            const bool was_ignored = (ignored_ & bit) != 0;
            if (known && ((now & bit) != 0) == was_ignored)
                continue;
            struct sigaction action {};
            action.sa_handler = was_ignored ? SIG_IGN : SIG_DFL;
            ::sigemptyset(&action.sa_mask);
            if (::sigaction(sig, &action, nullptr) != 0)
                return failed(sig);
        }
    } else {
        for (int sig = 1; sig < NSIG; ++sig) {
            const auto i = static_cast<std::size_t>(sig);
            if (recorded_[i] && ::sigaction(sig, &actions_[i], nullptr) != 0)
                return failed(sig);
        }
    }
    if (::sigprocmask(SIG_SETMASK, &mask_, nullptr) != 0) {
        const int err = errno;
        return errno_error("cannot restore the signal mask", err);
    }
    return {};
}

Error exec_failure(std::string_view command, int err)
{
    const Errc code =
        (err == ENOENT || err == ENOTDIR) ? Errc::exec_not_found : Errc::exec_not_executable;
    return Error(code,
                 util::str_cat("exec ", util::quoted(command), " failed: ", std::strerror(err)));
}

std::vector<char*> make_argv(const std::vector<std::string>& command)
{
    std::vector<char*> argv;
    argv.reserve(command.size() + 1);
    // execve takes char* const[] for C's sake; it does not write through them.
    for (const auto& arg : command)
        argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    return argv;
}

Error exec_command(const std::vector<std::string>& command, ExecEnvironment& env,
                   const SignalState& signals)
{
    if (command.empty())
        return Error(Errc::usage, "no command to run");
    auto path = find_in_path(command.front(), env.find("PATH"), check_executable);
    if (!path)
        return path.error();
    auto argv = make_argv(command);

    if (auto restored = signals.restore(); !restored)
        return restored.error();
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);

    ::execve(path->c_str(), argv.data(), env.envp());
    return exec_failure(command.front(), errno);
}

Result<void> disable_dumping()
{
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        const int err = errno;
        return errno_error("cannot make the process non-dumpable", err);
    }
    return {};
}

} // namespace secrun::exec
