// The last step: restore signal state, then execve the command (the thin shell).
//
// Call exec_command only after the resolver scope has returned, so that the
// io_context, its sockets (not close-on-exec in Boost 1.81) and the TLS
// context are gone (STYLE §3.4, §4.8).
#pragma once

#include "error.hpp"
#include "exec/environment.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <signal.h>

namespace secrun::exec {

/// The signal mask and every signal's disposition, as secrun found them.
/// Capture it first thing in main; whatever secrun blocks, ignores or
/// handles later is put back by restore() before the command runs (tini's
/// restore_signals, for every signal rather than just SIGTTIN/SIGTTOU).
///
/// What a command inherits through execve is only the mask and which signals
/// are ignored: the kernel resets every handled signal to SIG_DFL and every
/// sa_flags and sa_mask to empty. So the state is read from /proc/self/status
/// (SigIgn: one open and read) and restore() changes only the signals whose
/// ignored-or-not differs: a handful of system calls instead of two
/// sigaction per signal (~120, a tenth of a millisecond or more on a
/// virtual machine, where `secrun -- true` is compared with `env -- true`).
/// Without a readable /proc it records and restores every action.
class SignalState {
public:
    /// Records the current mask and which signals are ignored (or, without
    /// /proc, the action of every signal that has one: not SIGKILL, SIGSTOP
    /// or glibc's internal real-time signals).
    [[nodiscard]] static SignalState capture() noexcept;

    /// Puts back what execve passes on, then the mask (in that order, so that
    /// a signal left pending meets its original action): every signal ignored
    /// at capture is ignored, every other one is not (SIG_DFL where it was
    /// ignored meanwhile; a handler is left for execve to reset). Errc::internal
    /// if a system call fails: "cannot restore the action of signal 15:
    /// <strerror>". Only calls open, read, close, sigaction and sigprocmask,
    /// and allocates only to report a failure, so a forked child may use it.
    [[nodiscard]] Result<void> restore() const;

private:
    sigset_t mask_{};
    bool from_proc_ = false;    // ignored_ is valid, actions_ unused
    std::uint64_t ignored_ = 0; // bit sig-1: ignored at capture
    std::array<struct sigaction, NSIG> actions_{};
    std::array<bool, NSIG> recorded_{};
};

/// The Error for an execve that failed with `err`, naming the command as the
/// user wrote it (tini's wording): "exec 'foo' failed: No such file or directory".
/// ENOENT, ENOTDIR -> Errc::exec_not_found (exit 127); every other errno
/// (EACCES, EPERM, ENOEXEC, E2BIG, ...) -> Errc::exec_not_executable (126).
[[nodiscard]] Error exec_failure(std::string_view command, int err);

/// A NULL-terminated argv pointing into `command`; valid while `command` lives.
[[nodiscard]] std::vector<char*> make_argv(const std::vector<std::string>& command);

/// Finds command[0] in the PATH of `env` (find_in_path), restores `signals`,
/// flushes stdio and calls execve. On success it does not return: the command
/// *is* the process (its signals, PID and exit status). Returns only on
/// failure, with the Error to print and exit with (exit_code_for):
///  - Errc::usage: "no command to run" when `command` is empty;
///  - the find_in_path errors (127 / 126);
///  - Errc::internal when signal state cannot be restored (125);
///  - exec_failure(command[0], errno) when execve fails (127 / 126).
/// No shell fallback for ENOEXEC (a script without "#!" fails with 126), as
/// execve, runc and docker behave; execvp(3) would run it with /bin/sh.
[[nodiscard]] Error exec_command(const std::vector<std::string>& command, ExecEnvironment& env,
                                 const SignalState& signals);

/// Makes this process non-dumpable (prctl PR_SET_DUMPABLE 0): no core file,
/// and other non-root processes can neither ptrace it nor read its
/// /proc/PID/{mem,environ}. Call it before the first value is held.
/// Nothing has to undo it: execve gives the command normal dumpability again
/// (the kernel resets the flag on exec for a program that is not setuid and is
/// readable), so turning it back on before exec would only reopen the window.
/// Errc::internal on failure: "cannot make the process non-dumpable: <strerror>".
[[nodiscard]] Result<void> disable_dumping();

} // namespace secrun::exec
