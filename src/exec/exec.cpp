#include "exec/exec.hpp"

#include "exec/path_search.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

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

} // namespace

SignalState SignalState::capture() noexcept
{
    SignalState state;
    ::sigprocmask(SIG_SETMASK, nullptr, &state.mask_);
    for (int sig = 1; sig < NSIG; ++sig) {
        const auto i = static_cast<std::size_t>(sig);
        if (has_action(sig))
            state.recorded_[i] = ::sigaction(sig, nullptr, &state.actions_[i]) == 0;
    }
    return state;
}

Result<void> SignalState::restore() const
{
    for (int sig = 1; sig < NSIG; ++sig) {
        const auto i = static_cast<std::size_t>(sig);
        if (recorded_[i] && ::sigaction(sig, &actions_[i], nullptr) != 0) {
            const int err = errno;
            return errno_error(
                util::str_cat("cannot restore the action of signal ", std::to_string(sig)), err);
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
    const Errc code = (err == ENOENT || err == ENOTDIR) ? Errc::exec_not_found
                                                        : Errc::exec_not_executable;
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
