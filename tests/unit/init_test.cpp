#include "exec/init.hpp"

#include "log.hpp"
#include "unit/exec_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include <pty.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace secrun;
using secrun::testing::make_env;
using secrun::testing::read_file;
using secrun::testing::TempDir;

namespace {

// In the forked child: run `command` under run_as_init with the helpers on
// PATH; exit with the status it returns, or print its error as main would.
int init_main(const std::vector<std::string>& command)
{
    const auto signals = exec::SignalState::capture();
    auto r = exec::run_as_init(command, make_env({{"PATH", SECRUN_HELPER_DIR}}), signals);
    if (!r) {
        log::error(r.error().message);
        return exit_code_for(r.error().code);
    }
    return *r;
}

testing::ChildResult run_init(const std::vector<std::string>& command)
{
    return testing::run_forked([&] {
        testing::reset_signals();
        testing::detach_from_terminal();
        return init_main(command);
    });
}

const char* expected_state = "blocked:\nignored:\npgrp: leader\nterminal: none\nready\n";

} // namespace

BOOST_AUTO_TEST_SUITE(init)

BOOST_AUTO_TEST_CASE(exit_status_from_wait_is_what_a_shell_reports)
{
    BOOST_TEST(exec::exit_status_from_wait(W_EXITCODE(0, 0)) == 0);
    BOOST_TEST(exec::exit_status_from_wait(W_EXITCODE(3, 0)) == 3);
    BOOST_TEST(exec::exit_status_from_wait(W_EXITCODE(255, 0)) == 255);
    BOOST_TEST(exec::exit_status_from_wait(W_EXITCODE(0, SIGTERM)) == 143);
    BOOST_TEST(exec::exit_status_from_wait(W_EXITCODE(0, SIGKILL)) == 137);
    BOOST_TEST(exec::exit_status_from_wait(W_EXITCODE(0, SIGSEGV) | WCOREFLAG) == 139);
}

BOOST_AUTO_TEST_CASE(passes_the_commands_exit_status_through)
{
    for (const char* status : {"0", "3", "255"}) {
        const auto r = run_init({"exit_with", status});
        BOOST_TEST(r.err == "");
        BOOST_TEST(r.exit_code() == std::stoi(status));
    }
}

BOOST_AUTO_TEST_CASE(forwards_signals_sent_to_secrun_to_the_command)
{
    TempDir dir;
    const std::string report = dir / "report";
    auto child = testing::start_forked([&] {
        testing::reset_signals();
        testing::detach_from_terminal();
        return init_main({"sig_report", report});
    });
    BOOST_TEST_REQUIRE(testing::wait_for_text(report, "ready\n"));
    std::string expected = expected_state;
    for (int sig : {SIGUSR1, SIGHUP, SIGWINCH, SIGCONT, SIGINT, SIGTERM}) {
        ::kill(child->pid(), sig);
        expected += std::string("SIG") + ::sigabbrev_np(sig) + "\n";
        BOOST_TEST_REQUIRE(testing::wait_for_text(report, expected), expected);
    }
    const auto r = child->finish();
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 0); // sig_report exits 0 after SIGTERM
    BOOST_TEST(read_file(report) == expected);
}

BOOST_AUTO_TEST_CASE(a_command_killed_by_a_signal_gives_128_plus_n)
{
    TempDir dir;
    const std::string report = dir / "report";
    auto child = testing::start_forked([&] {
        testing::reset_signals();
        testing::detach_from_terminal();
        return init_main({"sig_report", report, "reraise"});
    });
    BOOST_TEST_REQUIRE(testing::wait_for_text(report, "ready\n"));
    ::kill(child->pid(), SIGTERM);
    const auto r = child->finish();
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 128 + SIGTERM);
    BOOST_TEST(read_file(report) == std::string(expected_state) + "SIGTERM\n");
}

BOOST_AUTO_TEST_CASE(reaps_orphaned_grandchildren)
{
    TempDir dir;
    const std::string report = dir / "orphan";
    const auto r = testing::run_forked([&]() -> int {
        testing::reset_signals();
        testing::detach_from_terminal();
        // spawn_orphan exits 0 only once its orphan has vanished from /proc.
        const int status = init_main({"spawn_orphan", report});
        if (status != 0)
            return 10 + status;
        std::istringstream in(read_file(report));
        pid_t orphan = 0;
        pid_t new_parent = 0;
        if (!(in >> orphan >> new_parent))
            return 3;
        if (new_parent != ::getpid())
            return 4; // re-parented to someone else: the subreaper flag did not work
        int wait_status = 0;
        if (::waitpid(orphan, &wait_status, WNOHANG) != -1 || errno != ECHILD)
            return 5; // still a zombie of ours
        return 0;
    });
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 0);
}

BOOST_AUTO_TEST_CASE(a_command_not_found_is_127_and_nothing_is_forked)
{
    const auto r = run_init({"no-such-command-xyz"});
    BOOST_TEST(r.exit_code() == 127);
    BOOST_TEST(r.err == "secrun: error: command 'no-such-command-xyz' not found in PATH\n");
}

BOOST_AUTO_TEST_CASE(an_exec_failure_in_the_child_is_reported_by_the_child)
{
    TempDir dir;
    testing::write_file(dir / "no-interpreter", "#!/nonexistent/interpreter\n", 0755);
    testing::write_file(dir / "not-a-program", "echo hi\n", 0755);

    auto r = run_init({dir / "no-interpreter"});
    BOOST_TEST(r.exit_code() == 127);
    BOOST_TEST(r.err == "secrun: error: exec '" + (dir / "no-interpreter") +
                            "' failed: No such file or directory\n");

    r = run_init({dir / "not-a-program"});
    BOOST_TEST(r.exit_code() == 126);
    BOOST_TEST(r.err ==
               "secrun: error: exec '" + (dir / "not-a-program") + "' failed: Exec format error\n");
}

BOOST_AUTO_TEST_CASE(works_with_an_ignored_sigchld_and_restores_the_callers_state)
{
    TempDir dir;
    const std::string report = dir / "report";
    const auto r = testing::run_forked([&]() -> int {
        testing::reset_signals();
        testing::detach_from_terminal();
        // The caller's state: SIGCHLD ignored (children would be auto-reaped),
        // SIGUSR1 blocked.
        ::signal(SIGCHLD, SIG_IGN);
        sigset_t usr1;
        ::sigemptyset(&usr1);
        ::sigaddset(&usr1, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &usr1, nullptr);

        const int status = init_main({"sig_report", report, "state"});
        if (status != 0)
            return 10 + status;
        struct sigaction chld {};
        ::sigaction(SIGCHLD, nullptr, &chld);
        if (chld.sa_handler != SIG_IGN)
            return 2;
        struct sigaction ttou {};
        ::sigaction(SIGTTOU, nullptr, &ttou);
        if (ttou.sa_handler != SIG_DFL)
            return 3;
        sigset_t mask;
        ::sigprocmask(SIG_SETMASK, nullptr, &mask);
        if (::sigismember(&mask, SIGUSR1) != 1 || ::sigismember(&mask, SIGTERM) != 0)
            return 4;
        int subreaper = -1;
        ::prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0);
        if (subreaper != 0)
            return 5;
        return 0;
    });
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 0);
    // The command got the caller's state, not secrun's.
    BOOST_TEST(read_file(report) ==
               "blocked: SIGUSR1\nignored: SIGCHLD\npgrp: leader\nterminal: none\nready\n");
}

BOOST_AUTO_TEST_CASE(the_command_gets_the_terminal_secrun_owned_and_gives_it_back)
{
    TempDir dir;
    const std::string report = dir / "report";
    const auto r = testing::run_forked([&]() -> int {
        testing::reset_signals();
        // A session of our own with a pseudo-terminal as controlling tty on fd 0.
        int master = -1;
        int slave = -1;
        if (::setsid() < 0 || ::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
            return 2;
        if (::ioctl(slave, TIOCSCTTY, 0) != 0 || ::dup2(slave, STDIN_FILENO) < 0)
            return 3;
        if (::tcgetpgrp(STDIN_FILENO) != ::getpgrp())
            return 4;
        const int status = init_main({"sig_report", report, "state"});
        if (status != 0)
            return 10 + status;
        if (::tcgetpgrp(STDIN_FILENO) != ::getpgrp())
            return 5; // not taken back
        return 0;
    });
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 0);
    BOOST_TEST(read_file(report) ==
               "blocked:\nignored:\npgrp: leader\nterminal: foreground\nready\n");
}

BOOST_AUTO_TEST_CASE(a_background_secrun_does_not_steal_the_terminal)
{
    TempDir dir;
    const std::string report = dir / "report";
    const auto r = testing::run_forked([&]() -> int {
        testing::reset_signals();
        int master = -1;
        int slave = -1;
        if (::setsid() < 0 || ::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
            return 2;
        if (::ioctl(slave, TIOCSCTTY, 0) != 0 || ::dup2(slave, STDIN_FILENO) < 0)
            return 3;
        // Another process group (a shell's foreground job) owns the terminal.
        const pid_t other = ::fork();
        if (other == 0) {
            ::setpgid(0, 0);
            ::pause();
            ::_exit(0);
        }
        ::setpgid(other, other);
        ::signal(SIGTTOU, SIG_IGN);
        if (::tcsetpgrp(STDIN_FILENO, other) != 0)
            return 4;
        ::signal(SIGTTOU, SIG_DFL);

        const int status = init_main({"sig_report", report, "state"});
        const pid_t foreground = ::tcgetpgrp(STDIN_FILENO);
        ::kill(other, SIGKILL);
        ::waitpid(other, nullptr, 0);
        if (status != 0)
            return 10 + status;
        if (foreground != other)
            return 5;
        return 0;
    });
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 0);
    BOOST_TEST(read_file(report) ==
               "blocked:\nignored:\npgrp: leader\nterminal: background\nready\n");
}

BOOST_AUTO_TEST_CASE(an_empty_command_is_a_usage_error)
{
    auto r = exec::run_as_init({}, exec::ExecEnvironment{}, exec::SignalState::capture());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "no command to run");
    BOOST_TEST((r.error().code == Errc::usage));
}

BOOST_AUTO_TEST_SUITE_END()
