// Test helper: `sig_report FILE [wait|reraise|state]` reports the signal
// state it was started with and then the signals it receives, appending one
// line per fact to FILE (each line written with one write(2)):
//   blocked: SIGUSR1 SIGHUP     signals blocked at start, in number order
//   ignored: SIGPIPE            signals whose action at start was SIG_IGN
//   pgrp: leader|member         whether it leads its own process group
//   terminal: foreground|background|none   what fd 0 is to it
//   ready                       from here on, every signal is recorded
//   SIGUSR1                     one line per signal received
// Modes: wait (default) exits 0 after recording SIGTERM; reraise dies by that
// SIGTERM instead (a parent sees 128+15); state exits 0 after "ready".
// Without a SIGTERM within 60 s it gives up with status 3, so a failed test
// leaves nothing running. Setup failures: a message on stderr and status 2.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

namespace {

int out_fd = -1;

void put_line(const std::string& line)
{
    std::string text = line;
    text.push_back('\n');
    if (::write(out_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        std::fprintf(stderr, "sig_report: cannot write: %s\n", std::strerror(errno));
        ::_exit(2);
    }
}

std::string name_of(int sig)
{
    std::string name = "SIG";
    const char* abbrev = ::sigabbrev_np(sig);
    name.append(abbrev != nullptr ? std::string(abbrev) : std::to_string(sig));
    return name;
}

bool usable(int sig) { return sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig >= SIGRTMIN); }

} // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc > 2 ? argv[2] : "wait";
    if (argc < 2 || argc > 3 || (mode != "wait" && mode != "reraise" && mode != "state")) {
        std::fputs("usage: sig_report FILE [wait|reraise|state]\n", stderr);
        return 2;
    }
    out_fd = ::open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out_fd < 0) {
        std::fprintf(stderr, "sig_report: cannot open %s: %s\n", argv[1], std::strerror(errno));
        return 2;
    }

    // The state it was started with, before touching anything.
    sigset_t start_mask;
    ::sigprocmask(SIG_SETMASK, nullptr, &start_mask);
    std::string blocked = "blocked:";
    std::string ignored = "ignored:";
    for (int sig = 1; sig < NSIG; ++sig) {
        if (!usable(sig))
            continue;
        if (::sigismember(&start_mask, sig) == 1)
            blocked.append(" ").append(name_of(sig));
        struct sigaction action {};
        if (::sigaction(sig, nullptr, &action) == 0 && action.sa_handler == SIG_IGN)
            ignored.append(" ").append(name_of(sig));
    }
    const std::string pgrp = ::getpgrp() == ::getpid() ? "pgrp: leader" : "pgrp: member";
    std::string terminal = "terminal: none";
    if (::isatty(STDIN_FILENO) == 1)
        terminal = ::tcgetpgrp(STDIN_FILENO) == ::getpgrp() ? "terminal: foreground"
                                                            : "terminal: background";

    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    put_line(blocked);
    put_line(ignored);
    put_line(pgrp);
    put_line(terminal);
    put_line("ready");
    if (mode == "state")
        return 0;

    timespec deadline{};
    ::clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += 60;
    while (true) {
        timespec now{};
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec >= deadline.tv_sec) {
            std::fputs("sig_report: no SIGTERM within 60 s\n", stderr);
            return 3;
        }
        const timespec wait{1, 0};
        siginfo_t info{};
        const int sig = ::sigtimedwait(&all, &info, &wait);
        if (sig < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            std::fprintf(stderr, "sig_report: sigtimedwait: %s\n", std::strerror(errno));
            return 2;
        }
        put_line(name_of(sig));
        if (sig != SIGTERM)
            continue;
        if (mode == "reraise") {
            std::signal(SIGTERM, SIG_DFL);
            sigset_t term;
            ::sigemptyset(&term);
            ::sigaddset(&term, SIGTERM);
            ::sigprocmask(SIG_UNBLOCK, &term, nullptr);
            ::raise(SIGTERM);
            return 2; // not reached
        }
        return 0;
    }
}
