#include "exec/exec.hpp"

#include "log.hpp"
#include "unit/exec_support.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <sys/prctl.h>

using namespace secrun;
using secrun::testing::make_env;
using secrun::testing::read_file;
using secrun::testing::run_forked;
using secrun::testing::TempDir;

namespace {

struct ErrnoCase {
    int err;
    int exit_code;
    const char* text;
};

std::ostream& operator<<(std::ostream& os, const ErrnoCase& c)
{
    return os << "errno " << c.err;
}

const std::vector<ErrnoCase> errno_table = {
    {ENOENT, 127, "No such file or directory"},
    {ENOTDIR, 127, "Not a directory"},
    {EACCES, 126, "Permission denied"},
    {EPERM, 126, "Operation not permitted"},
    {ENOEXEC, 126, "Exec format error"},
    {E2BIG, 126, "Argument list too long"},
    {ELOOP, 126, "Too many levels of symbolic links"},
    {ETXTBSY, 126, "Text file busy"},
};

// In a forked child: exec `command` with `vars`; if exec_command returns, print
// its message on stderr and exit with its exit code, as main does.
testing::ChildResult exec_in_child(std::vector<std::string> command,
                                   std::vector<std::pair<std::string, std::string>> vars)
{
    return run_forked([&] {
        const auto signals = exec::SignalState::capture();
        auto env = make_env(vars);
        const Error e = exec::exec_command(command, env, signals);
        log::error(e.message);
        return exit_code_for(e.code);
    });
}

} // namespace

BOOST_AUTO_TEST_SUITE(exec_shell)

BOOST_DATA_TEST_CASE(maps_execve_errno_to_exit_code_and_message,
                     boost::unit_test::data::make(errno_table), c)
{
    const Error e = exec::exec_failure("foo", c.err);
    BOOST_TEST(exit_code_for(e.code) == c.exit_code);
    BOOST_TEST(e.message == std::string("exec 'foo' failed: ") + c.text);
}

BOOST_AUTO_TEST_CASE(make_argv_points_into_the_command_and_ends_with_null)
{
    const std::vector<std::string> command = {"prog", "a b", ""};
    const auto argv = exec::make_argv(command);
    BOOST_TEST_REQUIRE(argv.size() == 4u);
    BOOST_TEST(argv[0] == command[0].c_str());
    BOOST_TEST(std::string(argv[1]) == "a b");
    BOOST_TEST(std::string(argv[2]).empty());
    BOOST_TEST(argv[3] == nullptr);
}

BOOST_AUTO_TEST_CASE(the_command_replaces_the_process_and_its_status_is_the_processs)
{
    // exit_with is found through the PATH of the new environment only.
    const auto r = exec_in_child({"exit_with", "7"}, {{"PATH", "/nonexistent:" SECRUN_HELPER_DIR}});
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 7);
}

BOOST_AUTO_TEST_CASE(without_path_in_the_new_environment_the_default_path_is_searched)
{
    // The runner's own PATH plays no part: the new environment has none.
    const auto r = exec_in_child({"sh", "-c", "exit 4"}, {{"HOME", "/"}});
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 4);
}

BOOST_AUTO_TEST_CASE(the_command_gets_exactly_the_new_environment)
{
    TempDir dir;
    const std::string out = dir / "env";
    const std::string tricky = "line1\nline2 $HOME \"q\" a=b \xc3\xa9";
    const auto r = exec_in_child({SECRUN_PRINT_ENV, out}, {{"B_VAR", tricky}, {"A_VAR", ""}});
    BOOST_TEST(r.exit_code() == 0);
    const std::string expected = std::string("A_VAR=") + '\0' + "B_VAR=" + tricky + '\0';
    BOOST_TEST(read_file(out) == expected);
}

BOOST_AUTO_TEST_CASE(a_command_not_in_path_is_127)
{
    const auto r = exec_in_child({"no-such-command-xyz"}, {{"PATH", SECRUN_HELPER_DIR}});
    BOOST_TEST(r.exit_code() == 127);
    BOOST_TEST(r.err == "secrun: error: command 'no-such-command-xyz' not found in PATH\n");
}

BOOST_AUTO_TEST_CASE(a_missing_path_is_127_and_names_the_command)
{
    const auto r = exec_in_child({"/nonexistent/prog"}, {});
    BOOST_TEST(r.exit_code() == 127);
    BOOST_TEST(r.err == "secrun: error: exec '/nonexistent/prog' failed: No such file or directory\n");
}

BOOST_AUTO_TEST_CASE(a_file_without_execute_permission_is_126)
{
    TempDir dir;
    testing::write_file(dir / "data", "#!/bin/sh\nexit 0\n", 0644);
    auto r = exec_in_child({dir / "data"}, {});
    BOOST_TEST(r.exit_code() == 126);
    BOOST_TEST(r.err == "secrun: error: exec '" + (dir / "data") + "' failed: Permission denied\n");

    r = exec_in_child({"data"}, {{"PATH", dir.path().string()}});
    BOOST_TEST(r.exit_code() == 126);
    BOOST_TEST(r.err == "secrun: error: command 'data' is not executable: Permission denied\n");
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_program_is_126_without_a_shell_fallback)
{
    TempDir dir;
    testing::write_file(dir / "script", "exit 0\n", 0755);
    const auto r = exec_in_child({"script"}, {{"PATH", dir.path().string()}});
    BOOST_TEST(r.exit_code() == 126);
    BOOST_TEST(r.err == "secrun: error: exec 'script' failed: Exec format error\n");
}

BOOST_AUTO_TEST_CASE(a_script_whose_interpreter_is_missing_is_127)
{
    TempDir dir;
    testing::write_file(dir / "script", "#!/nonexistent/interpreter\n", 0755);
    const auto r = exec_in_child({dir / "script"}, {});
    BOOST_TEST(r.exit_code() == 127);
    BOOST_TEST(r.err ==
               "secrun: error: exec '" + (dir / "script") + "' failed: No such file or directory\n");
}

BOOST_AUTO_TEST_CASE(an_empty_command_is_a_usage_error)
{
    exec::ExecEnvironment env;
    const Error e = exec::exec_command({}, env, exec::SignalState::capture());
    BOOST_TEST(e.message == "no command to run");
    BOOST_TEST(exit_code_for(e.code) == 125);
}

BOOST_AUTO_TEST_CASE(signal_mask_and_actions_are_restored_before_exec)
{
    TempDir dir;
    const std::string report = dir / "report";
    const auto r = run_forked([&] {
        testing::reset_signals();
        testing::detach_from_terminal();
        const auto signals = exec::SignalState::capture();
        // What secrun might do meanwhile: block, ignore, handle.
        sigset_t set;
        ::sigemptyset(&set);
        ::sigaddset(&set, SIGUSR1);
        ::sigaddset(&set, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &set, nullptr);
        ::signal(SIGPIPE, SIG_IGN);
        ::signal(SIGHUP, SIG_IGN);
        ::signal(SIGUSR2, [](int) {});
        auto env = make_env({});
        const Error e = exec::exec_command({SECRUN_SIG_REPORT, report, "state"}, env, signals);
        log::error(e.message);
        return exit_code_for(e.code);
    });
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 0);
    BOOST_TEST(read_file(report) ==
               "blocked:\nignored:\npgrp: leader\nterminal: none\nready\n");
}

BOOST_AUTO_TEST_CASE(what_secrun_inherited_is_what_the_command_inherits)
{
    // An inherited SIG_IGN or blocked signal is the caller's choice (nohup,
    // a supervisor); secrun passes it on unchanged, as env(1) does.
    TempDir dir;
    const std::string report = dir / "report";
    const auto r = run_forked([&] {
        testing::reset_signals();
        testing::detach_from_terminal();
        ::signal(SIGHUP, SIG_IGN);
        sigset_t set;
        ::sigemptyset(&set);
        ::sigaddset(&set, SIGUSR1);
        ::sigprocmask(SIG_BLOCK, &set, nullptr);
        ::signal(SIGTERM, SIG_IGN);
        const auto signals = exec::SignalState::capture();
        ::signal(SIGHUP, SIG_DFL);
        ::signal(SIGTERM, [](int) {}); // a handler alone would become SIG_DFL at exec
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        auto env = make_env({});
        const Error e = exec::exec_command({SECRUN_SIG_REPORT, report, "state"}, env, signals);
        log::error(e.message);
        return exit_code_for(e.code);
    });
    BOOST_TEST(r.exit_code() == 0);
    BOOST_TEST(read_file(report) ==
               "blocked: SIGUSR1\nignored: SIGHUP SIGTERM\npgrp: leader\nterminal: none\nready\n");
}

BOOST_AUTO_TEST_CASE(non_dumpable_secrun_execs_a_dumpable_command)
{
    TempDir dir;
    const std::string out = dir / "out";
    const auto r = run_forked([&] {
        if (!exec::disable_dumping())
            return 40;
        if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
            return 41;
        // print_dumpable writes to stdout: point it at the file.
        const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, STDOUT_FILENO);
        ::close(fd);
        auto env = make_env({});
        const Error e = exec::exec_command({SECRUN_PRINT_DUMPABLE}, env, exec::SignalState::capture());
        log::error(e.message);
        return exit_code_for(e.code);
    });
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.exit_code() == 0);
    BOOST_TEST(read_file(out) == "1\n");
}

BOOST_AUTO_TEST_CASE(exec_adds_no_descriptor_of_its_own)
{
    // With only 0-2 open before exec_command, the command sees only 0-2
    // (list_fds does not count its own directory or output file).
    TempDir dir;
    const std::string out = dir / "fds";
    const auto r = run_forked([&] {
        // Close everything but 0-2 that the runner may have left open.
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        auto env = make_env({});
        const Error e = exec::exec_command({SECRUN_LIST_FDS, out}, env, exec::SignalState::capture());
        log::error(e.message);
        return exit_code_for(e.code);
    });
    BOOST_TEST(r.exit_code() == 0);
    BOOST_TEST(read_file(out) == "0\n1\n2\n");
}

BOOST_AUTO_TEST_SUITE_END()
