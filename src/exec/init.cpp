#include "exec/init.hpp"

#include "exec/path_search.hpp"
#include "log.hpp"
#include "util/strings.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace secrun::exec {
namespace {

// Signals that are about secrun itself (a fault in secrun must kill secrun),
// plus the terminal stops that secrun ignores; none of these is forwarded.
constexpr std::array<int, 9> not_forwarded = {SIGFPE, SIGILL,  SIGSEGV, SIGBUS, SIGABRT,
                                              SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU};

Error errno_error(std::string_view what, int err)
{
    return Error(Errc::internal, util::str_cat(what, ": ", std::strerror(err)));
}

// The terminal (fd 0, 1 or 2) whose foreground process group is ours, or -1.
int owned_terminal() noexcept
{
    for (int fd = 0; fd <= 2; ++fd) {
        if (::isatty(fd) == 1 && ::tcgetpgrp(fd) == ::getpgrp())
            return fd;
    }
    return -1;
}

// Blocks the forwarded signals and sets up the parent; puts everything back
// when destroyed.
class ParentSignals {
public:
    ParentSignals()
    {
        ::sigfillset(&forwarded_);
        for (int sig : not_forwarded)
            ::sigdelset(&forwarded_, sig);
        ::sigprocmask(SIG_SETMASK, &forwarded_, &old_mask_);

        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        ::sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGTTIN, &ignore, &old_ttin_);
        ::sigaction(SIGTTOU, &ignore, &old_ttou_);
        // An inherited SIG_IGN (or SA_NOCLDWAIT) on SIGCHLD would make the
        // kernel reap children itself, and waitpid could not report the
        // command's status.
        struct sigaction deflt {};
        deflt.sa_handler = SIG_DFL;
        ::sigemptyset(&deflt.sa_mask);
        ::sigaction(SIGCHLD, &deflt, &old_chld_);

        if (::getpid() != 1) {
            int was = 0;
            ::prctl(PR_GET_CHILD_SUBREAPER, &was, 0, 0, 0);
            if (was == 0) {
                if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0) {
                    set_subreaper_ = true;
                } else {
                    const int err = errno;
                    log::warn(util::str_cat("cannot become a child subreaper (",
                                            std::strerror(err),
                                            "): orphaned processes will not be reaped"));
                }
            }
        }
    }

    ParentSignals(const ParentSignals&) = delete;
    ParentSignals& operator=(const ParentSignals&) = delete;

    ~ParentSignals()
    {
        if (set_subreaper_)
            ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        // Signals still pending were meant for the command, which is gone;
        // unblocking them would let a late SIGTERM replace its exit status.
        const timespec no_wait{0, 0};
        while (::sigtimedwait(&forwarded_, nullptr, &no_wait) > 0) {
        }
        ::sigaction(SIGCHLD, &old_chld_, nullptr);
        ::sigaction(SIGTTOU, &old_ttou_, nullptr);
        ::sigaction(SIGTTIN, &old_ttin_, nullptr);
        ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    }

    [[nodiscard]] const sigset_t& forwarded() const noexcept { return forwarded_; }

private:
    sigset_t forwarded_{};
    sigset_t old_mask_{};
    struct sigaction old_ttin_ {};
    struct sigaction old_ttou_ {};
    struct sigaction old_chld_ {};
    bool set_subreaper_ = false;
};

// In the child, between fork and execve. Never returns.
[[noreturn]] void run_child(const std::string& path, const std::vector<char*>& argv,
                            char* const* envp, const std::string& command, int terminal,
                            const SignalState& signals)
{
    // A group of its own, so that terminal signals reach the command from
    // the kernel and not twice (once more through secrun). tcsetpgrp is done
    // here, not in the parent, while SIGTTOU is still ignored (tini's
    // isolate_child).
    if (::setpgid(0, 0) != 0) {
        const int err = errno;
        log::error(errno_error("setpgid failed", err).message);
        ::_exit(125);
    }
    if (terminal >= 0 && ::tcsetpgrp(terminal, ::getpgrp()) != 0 && errno != ENOTTY &&
        errno != ENXIO) {
        const int err = errno;
        log::error(errno_error("tcsetpgrp failed", err).message);
        ::_exit(125);
    }
    if (auto restored = signals.restore(); !restored) {
        log::error(restored.error().message);
        ::_exit(125);
    }
    ::execve(path.c_str(), argv.data(), envp);
    const Error e = exec_failure(command, errno);
    log::error(e.message);
    ::_exit(exit_code_for(e.code));
}

bool raised_by_self(const siginfo_t& info) noexcept
{
    return info.si_code <= 0 && info.si_pid == ::getpid();
}

// Forwards signals and reaps zombies until `child` has exited.
Result<int> supervise(pid_t child, const sigset_t& forwarded)
{
    std::optional<int> status;
    while (!status) {
        // The timeout is only a safety net: SIGCHLD wakes us for every death.
        const timespec one_second{1, 0};
        siginfo_t info{};
        const int sig = ::sigtimedwait(&forwarded, &info, &one_second);
        if (sig < 0) {
            const int err = errno;
            if (err != EAGAIN && err != EINTR)
                return errno_error("sigtimedwait failed", err);
        } else if (sig != SIGCHLD && !raised_by_self(info)) {
            if (::kill(child, sig) != 0 && errno != ESRCH) {
                const int err = errno;
                log::warn(util::str_cat("cannot forward signal ", std::to_string(sig), ": ",
                                        std::strerror(err)));
            }
        }

        while (true) {
            int wait_status = 0;
            const pid_t pid = ::waitpid(-1, &wait_status, WNOHANG);
            if (pid > 0) {
                if (pid == child)
                    status = exit_status_from_wait(wait_status);
                continue;
            }
            if (pid < 0 && errno == EINTR)
                continue;
            if (pid < 0 && errno == ECHILD && !status)
                return Error(Errc::internal, util::str_cat("lost the command's process (pid ",
                                                           std::to_string(child), ")"));
            break;
        }
    }
    return *status;
}

} // namespace

int exit_status_from_wait(int wait_status) noexcept
{
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status))
        return 128 + WTERMSIG(wait_status);
    return 125; // stopped or continued: waitpid is never asked for these
}

Result<int> run_as_init(const std::vector<std::string>& command, ExecEnvironment env,
                        const SignalState& signals)
{
    if (command.empty())
        return Error(Errc::usage, "no command to run");
    auto path = find_in_path(command.front(), env.find("PATH"), check_executable);
    if (!path)
        return path.error();
    const auto argv = make_argv(command);
    char* const* envp = env.envp();

    ParentSignals parent;
    const int terminal = owned_terminal();
    // Nothing buffered may be written twice (the child's copy is dropped
    // by execve or _exit, but be explicit about the order of output).
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);

    const pid_t child = ::fork();
    if (child < 0) {
        const int err = errno;
        return errno_error("cannot fork", err);
    }
    if (child == 0)
        run_child(*path, argv, envp, command.front(), terminal, signals);

    env.clear(); // the parent holds no value from here on
    auto status = supervise(child, parent.forwarded());
    if (terminal >= 0)
        ::tcsetpgrp(terminal, ::getpgrp()); // allowed: SIGTTOU is still ignored
    return status;
}

} // namespace secrun::exec
