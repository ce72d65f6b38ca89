// `secrun --init` end to end: the built binary stays as the command's parent,
// forwards signals, reaps orphans and exits with the command's status; and
// the same as PID 1 of a PID namespace (unshare), where that is permitted.
#include "e2e/harness.hpp"
#include "fakes/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include <signal.h>
#include <string.h>
#include <unistd.h>

using namespace secrun;
using namespace secrun::e2e;
using testing::TempDir;

namespace {

// What sig_report writes first when secrun --init started it: nothing
// blocked or ignored (secrun restores the state it was started with, and
// spawn() starts it clean), a process group of its own, no terminal.
const std::string expected_state = "blocked:\nignored:\npgrp: leader\nterminal: none\nready\n";

constexpr auto finish_within = std::chrono::seconds(20);

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Polls until `file` holds `text` (a helper reached a point), up to 10 s.
bool wait_for_text(const std::filesystem::path& file, const std::string& text)
{
    for (int i = 0; i < 1000; ++i) {
        if (read_text(file).find(text) != std::string::npos)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

std::string signal_line(int sig) { return std::string("SIG") + ::sigabbrev_np(sig) + "\n"; }

// spawn_orphan's report: "<orphan pid> <the pid it was re-parented to>".
std::pair<long, long> read_orphan_report(const std::filesystem::path& file)
{
    std::istringstream in(read_text(file));
    long orphan = 0;
    long new_parent = 0;
    in >> orphan >> new_parent;
    return {orphan, new_parent};
}

// The pid of a child of `parent` (the first found in /proc), or nullopt.
std::optional<pid_t> child_of(pid_t parent)
{
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const std::string stat = read_text(entry.path() / "stat");
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        const auto close = stat.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(stat.substr(close + 1));
        char state = 0;
        long ppid = 0;
        if (rest >> state >> ppid && ppid == parent)
            return static_cast<pid_t>(std::stol(name));
    }
    return std::nullopt;
}

// The unshare prefix that puts a command in a new PID namespace (with /proc
// remounted for it), or nullopt when this machine does not permit one: as
// root, or through a user namespace otherwise. Tried once. --kill-child:
// when unshare dies (a failed test kills it), its child, PID 1 there, is
// killed and the whole namespace with it.
const std::optional<std::vector<std::string>>& pid_namespace_prefix()
{
    static const std::optional<std::vector<std::string>> prefix =
        []() -> std::optional<std::vector<std::string>> {
        const std::string unshare = "/usr/bin/unshare";
        if (::access(unshare.c_str(), X_OK) != 0)
            return std::nullopt;
        for (std::vector<std::string> candidate :
             {std::vector<std::string>{unshare, "--pid", "--fork", "--kill-child", "--mount-proc"},
              std::vector<std::string>{unshare, "--user", "--map-root-user", "--pid", "--fork",
                                       "--kill-child", "--mount-proc"}}) {
            auto argv = candidate;
            argv.push_back("/bin/true");
            try {
                if (spawn(argv, base_env())->finish(std::chrono::seconds(10)).status == 0)
                    return candidate;
            } catch (const std::exception&) {
            }
        }
        return std::nullopt;
    }();
    return prefix;
}

boost::test_tools::assertion_result pid_namespaces_permitted(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result permitted(pid_namespace_prefix().has_value());
    if (!permitted)
        permitted.message() << "skipped: unshare --pid --fork --mount-proc is not permitted here "
                               "(needs root or unprivileged user namespaces)";
    return permitted;
}

struct InitFixture {
    TempDir dir{"e2e-init"};
    EnvMap env = base_env();

    // `secrun --init -- command...` in `dir` (no manifest, no env.local).
    std::vector<std::string> init_args(std::vector<std::string> command) const
    {
        std::vector<std::string> args{"--init", "--"};
        args.insert(args.end(), command.begin(), command.end());
        return args;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(init_mode)

BOOST_FIXTURE_TEST_CASE(exit_statuses_pass_through_exactly, InitFixture)
{
    for (int code : {0, 3, 255}) {
        const Run r = run_secrun(init_args({helper("exit_with"), std::to_string(code)}), env,
                                 dir.path());
        BOOST_TEST(r.status == code);
        BOOST_TEST(r.err == "");
        BOOST_TEST(r.out == "");
    }
}

BOOST_FIXTURE_TEST_CASE(signals_sent_to_secrun_reach_the_command, InitFixture)
{
    const auto report = dir / "report";
    auto secrun = spawn_secrun(init_args({helper("sig_report"), report.string()}), env, dir.path());
    BOOST_TEST_REQUIRE(wait_for_text(report, "ready\n"));
    std::string expected = expected_state;
    for (int sig : {SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGQUIT, SIGWINCH, SIGTERM}) {
        BOOST_TEST_REQUIRE(::kill(secrun->pid(), sig) == 0);
        expected += signal_line(sig);
        BOOST_TEST_REQUIRE(wait_for_text(report, expected), expected);
    }
    // sig_report exits 0 after recording SIGTERM; secrun exits with that.
    const Run r = secrun->finish(finish_within);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.err == "");
    BOOST_TEST(read_text(report) == expected);
}

BOOST_FIXTURE_TEST_CASE(a_command_killed_by_sigterm_gives_143, InitFixture)
{
    const auto report = dir / "report";
    auto secrun = spawn_secrun(init_args({helper("sig_report"), report.string(), "reraise"}), env,
                               dir.path());
    BOOST_TEST_REQUIRE(wait_for_text(report, "ready\n"));
    BOOST_TEST_REQUIRE(::kill(secrun->pid(), SIGTERM) == 0);
    const Run r = secrun->finish(finish_within);
    BOOST_TEST(r.status == 128 + SIGTERM);
    BOOST_TEST(r.err == "");
    BOOST_TEST(read_text(report) == expected_state + "SIGTERM\n");
}

BOOST_FIXTURE_TEST_CASE(orphaned_grandchildren_are_reaped_by_secrun, InitFixture)
{
    // spawn_orphan exits 0 only once its orphan has vanished from /proc, that
    // is once whoever inherited it has reaped it.
    const auto report = dir / "orphan";
    auto secrun = spawn_secrun(init_args({helper("spawn_orphan"), report.string()}), env, dir.path());
    const pid_t secrun_pid = secrun->pid();
    const Run r = secrun->finish(finish_within);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.err == "");
    const auto [orphan, new_parent] = read_orphan_report(report);
    BOOST_TEST(orphan > 0);
    BOOST_TEST(new_parent == secrun_pid); // the subreaper: secrun, not the system's init
}

BOOST_FIXTURE_TEST_CASE(a_missing_command_is_127_and_nothing_runs, InitFixture)
{
    const Run r = run_secrun(init_args({"no-such-command-xyz"}), env, dir.path());
    BOOST_TEST(r.status == 127);
    BOOST_TEST(r.err == "secrun: error: command 'no-such-command-xyz' not found in PATH\n");
    BOOST_TEST(r.out == "");
}

BOOST_FIXTURE_TEST_CASE(an_exec_failure_in_the_child_is_126, InitFixture)
{
    const auto script = dir.write("not-executable.sh", "#!/bin/sh\nexit 0\n");
    std::filesystem::permissions(script, std::filesystem::perms::owner_read |
                                             std::filesystem::perms::owner_write);
    // find_in_path only checks a name without '/'; a path is exec'd as is.
    const Run r = run_secrun(init_args({script.string()}), env, dir.path());
    BOOST_TEST(r.status == 126);
    BOOST_TEST(r.err == "secrun: error: exec '" + script.string() + "' failed: Permission denied\n");
}

BOOST_FIXTURE_TEST_CASE(values_and_files_reach_the_command_and_nothing_leaks, InitFixture)
{
    dir.write("vars.env", "API_KEY=s3cr3t-init-value-XYZ\nTLS_KEY=s3cr3t-init-file-XYZ\n");
    dir.write("m.manifest", "API_KEY\nTLS_KEY file\n");
    const Run r = run_secrun({"--init", "--manifest", "m.manifest", "--env-file", "vars.env", "--",
                              helper("print_env")},
                             env, dir.path());
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST_REQUIRE(r.status == 0);
    BOOST_TEST(r.err == "");
    auto vars = parse_env0(r.out);
    BOOST_TEST(vars["API_KEY"] == "s3cr3t-init-value-XYZ");
    // The file stays after the command exits, as it does after an exec.
    BOOST_TEST_REQUIRE(!vars["TLS_KEY"].empty());
    BOOST_TEST(read_text(vars["TLS_KEY"]) == "s3cr3t-init-file-XYZ");
    std::filesystem::remove_all(std::filesystem::path(vars["TLS_KEY"]).parent_path());

    // A failed start under --init says the same as without it, and leaks nothing.
    dir.write("bad.manifest", "API_KEY\nMISSING_KEY\n");
    const Run bad = run_secrun({"--init", "--manifest", "bad.manifest", "--env-file", "vars.env",
                                "--", helper("print_env")},
                               env, dir.path());
    BOOST_TEST(bad.status == 125);
    BOOST_TEST(bad.out == "");
    BOOST_TEST(!contains(bad.err, "s3cr3t-init"));
}

BOOST_FIXTURE_TEST_CASE(help_documents_init, InitFixture)
{
    const Run help = run_secrun({"--help"}, env, dir.path());
    BOOST_TEST(help.status == 0);
    BOOST_TEST(contains(help.out, "  --init "));
    BOOST_TEST(contains(help.out, "forward signals, reap zombies"));
    BOOST_TEST(contains(help.out, "with --init, 128+N when signal N killed it"));
}

BOOST_FIXTURE_TEST_CASE(as_pid_1_signals_reach_the_command,
                        InitFixture, *boost::unit_test::precondition(pid_namespaces_permitted))
{
    const auto report = dir / "report";
    std::vector<std::string> argv = *pid_namespace_prefix();
    argv.push_back(secrun_binary());
    for (auto& arg : init_args({helper("sig_report"), report.string()}))
        argv.push_back(arg);
    auto unshare = spawn(argv, env, dir.path());
    BOOST_TEST_REQUIRE(wait_for_text(report, "ready\n"));
    // unshare --fork waits for its child, secrun, which is PID 1 inside.
    const auto secrun_pid = child_of(unshare->pid());
    BOOST_TEST_REQUIRE(secrun_pid.has_value());
    std::string expected = expected_state;
    for (int sig : {SIGUSR1, SIGHUP, SIGTERM}) {
        BOOST_TEST_REQUIRE(::kill(*secrun_pid, sig) == 0);
        expected += signal_line(sig);
        BOOST_TEST_REQUIRE(wait_for_text(report, expected), expected);
    }
    const Run r = unshare->finish(finish_within);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.err == "");
    BOOST_TEST(read_text(report) == expected);
}

BOOST_FIXTURE_TEST_CASE(as_pid_1_orphans_are_reaped,
                        InitFixture, *boost::unit_test::precondition(pid_namespaces_permitted))
{
    const auto report = dir / "orphan";
    std::vector<std::string> argv = *pid_namespace_prefix();
    argv.push_back(secrun_binary());
    for (auto& arg : init_args({helper("spawn_orphan"), report.string()}))
        argv.push_back(arg);
    const Run r = spawn(argv, env, dir.path())->finish(finish_within);
    BOOST_TEST(r.status == 0); // spawn_orphan saw its orphan reaped
    BOOST_TEST(r.err == "");
    const auto [orphan, new_parent] = read_orphan_report(report);
    BOOST_TEST(orphan > 0);
    BOOST_TEST(new_parent == 1); // secrun is PID 1 there, and reaped it
}

BOOST_AUTO_TEST_SUITE_END()
