// --init (DESIGN §3.6): secrun stays behind as a minimal init and runs the command as its child.
//
// tini's shape, for images whose program cannot be PID 1:
//  - secrun blocks every signal except the synchronous ones (SIGSEGV, SIGBUS,
//    SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS), ignores SIGTTIN and SIGTTOU (so
//    that writing to a terminal it no longer owns cannot stop it), and
//    collects signals with sigtimedwait;
//  - it becomes a child subreaper when it is not PID 1, so orphaned
//    descendants are re-parented to it and reaped;
//  - the child puts itself in a process group of its own and, when secrun
//    owned the terminal (fd 0, 1 or 2 is a tty whose foreground group is
//    secrun's), makes that group the terminal's foreground. Ctrl-C and
//    Ctrl-\ then reach the command's whole group from the kernel, once, and
//    never through secrun. secrun never takes a terminal it did not own.
//  - every blocked signal secrun receives, except SIGCHLD and the ones it
//    raised itself (a SIGPIPE from its own stderr), is forwarded to the child's pid
//    (tini's default, not its -g): the command decides what its own children
//    get. SIGTSTP, SIGCONT and SIGWINCH are forwarded like the rest;
//  - every zombie is reaped (waitpid(-1, WNOHANG)); when the command exits,
//    its status is returned: its exit code, or 128+N when signal N killed it.
// Known limit, as in tini: a command stopped by Ctrl-Z stays stopped, because
// secrun does not stop itself in turn, so the shell does not see a stopped job.
#pragma once

#include "error.hpp"
#include "exec/environment.hpp"
#include "exec/exec.hpp"

#include <string>
#include <vector>

namespace secrun::exec {

/// A shell's view of a waitpid status: the exit code when the process exited,
/// 128+N when signal N killed it.
[[nodiscard]] int exit_status_from_wait(int wait_status) noexcept;

/// Runs `command` as a child process and supervises it until it exits.
///
/// PATH is searched in the parent (find_in_path, in the PATH of `env`), so
/// "not found" and "not executable" come back as the same Errors as
/// exec_command's (127 / 126) and nothing is forked. If execve fails in the
/// child, the child prints exec_failure()'s message ("secrun: error: exec
/// 'foo' failed: ...") on stderr and exits 127 or 126; that is then the status
/// returned. The child restores `signals` before execve, as exec_command does;
/// it never returns into the caller (it execs or _exits).
///
/// The parent wipes `env` right after the fork: destroy every other copy of
/// the values before calling this, since this process lives on for as long as
/// the command runs.
///
/// Returns the status to exit with. Before returning, it takes the terminal
/// back if it gave it away, drops signals still pending for the dead child,
/// and restores its own signal mask, SIGTTIN/SIGTTOU/SIGCHLD actions and
/// subreaper flag. Errc::internal when fork or sigtimedwait fails, or when the
/// child cannot be waited for; Errc::usage when `command` is empty.
[[nodiscard]] Result<int> run_as_init(const std::vector<std::string>& command,
                                      ExecEnvironment env, const SignalState& signals);

} // namespace secrun::exec
