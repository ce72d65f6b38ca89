// The secrun binary end to end on the env backend: what the command sees,
// exit statuses, stderr, file descriptors, and that no value leaks.
#include "e2e/harness.hpp"
#include "fakes/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <sys/stat.h>

using namespace secrun;
using namespace secrun::e2e;
using testing::TempDir;

namespace {

// A dotenv file whose values are hard to carry: newlines, quotes, $, unicode, =.
constexpr std::string_view tricky_dotenv =
    "PLAIN=plain-value\n"
    "SPACES=\"two  spaces and # not a comment\"\n"
    "DOLLAR='$HOME and ${PATH} stay as written'\n"
    "MULTI=\"line one\nline two\"\n"
    "ESCAPED=\"a\\nb\"\n"
    "SINGLE='a\\nb'\n"
    "QUOTES=\"she said \\\"hi\\\" and 'bye'\"\n"
    "UNICODE=пароль-密码-🔑\n"
    "EQUALS=a=b=c\n"
    "export EXPORTED=yes\n"
    "JSON='{\"user\":\"muse\",\"password\":\"p@ss w0rd\",\"port\":5432,\"nested\":{\"k\":[1,\"two\"]}}'\n";

struct EnvFixture {
    TempDir dir{"e2e-env"};
    EnvMap env = base_env();

    std::string write(std::string_view name, std::string_view content)
    {
        return dir.write(name, content).string();
    }

    Run run(const std::vector<std::string>& args) { return run_secrun(args, env, dir.path()); }

    std::map<std::string, std::string> child_env(const std::vector<std::string>& secrun_args,
                                                 Run* out = nullptr)
    {
        std::vector<std::string> args = secrun_args;
        args.push_back("--");
        args.push_back(helper("print_env"));
        Run r = run(args);
        if (out)
            *out = r;
        BOOST_TEST_INFO("stderr: " << r.err);
        BOOST_TEST_REQUIRE(r.status == 0);
        return parse_env0(r.out);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(env_backend)

BOOST_FIXTURE_TEST_CASE(values_reach_the_child_byte_for_byte, EnvFixture)
{
    write("vars.env", tricky_dotenv);
    write("m.manifest", "PLAIN\nSPACES\nDOLLAR\nMULTI\nESCAPED\nSINGLE\nQUOTES\nUNICODE\nEQUALS\n"
                        "EXPORTED\nDB_PASSWORD = JSON#password\nDB_PORT = JSON#port\n"
                        "NESTED = JSON#nested.k.1\n");
    auto vars = child_env({"--manifest", "m.manifest", "--env-file", "vars.env"});
    BOOST_TEST(vars["PLAIN"] == "plain-value");
    BOOST_TEST(vars["SPACES"] == "two  spaces and # not a comment");
    BOOST_TEST(vars["DOLLAR"] == "$HOME and ${PATH} stay as written");
    BOOST_TEST(vars["MULTI"] == "line one\nline two");
    BOOST_TEST(vars["ESCAPED"] == "a\nb");
    BOOST_TEST(vars["SINGLE"] == "a\\nb");
    BOOST_TEST(vars["QUOTES"] == "she said \\\"hi\\\" and 'bye'"); // dotenv keeps \"
    BOOST_TEST(vars["UNICODE"] == "пароль-密码-🔑");
    BOOST_TEST(vars["EQUALS"] == "a=b=c");
    BOOST_TEST(vars["EXPORTED"] == "yes");
    BOOST_TEST(vars["DB_PASSWORD"] == "p@ss w0rd");
    BOOST_TEST(vars["DB_PORT"] == "5432");
    BOOST_TEST(vars["NESTED"] == "two");
    BOOST_TEST(vars.count("JSON") == 0u); // with a manifest, only its names are injected
}

BOOST_FIXTURE_TEST_CASE(without_a_manifest_every_dotenv_variable_is_injected, EnvFixture)
{
    write("env.local", "A=1\nB=\"two words\"\n");
    ::chmod((dir / "env.local").c_str(), 0600);
    Run r;
    auto vars = child_env({}, &r);
    BOOST_TEST(vars["A"] == "1");
    BOOST_TEST(vars["B"] == "two words");
    BOOST_TEST(vars["PATH"] == "/usr/bin:/bin");
    BOOST_TEST(r.err == "");
}

BOOST_FIXTURE_TEST_CASE(later_env_files_win_and_the_environment_wins_over_files, EnvFixture)
{
    write("one.env", "A=from-one\nB=from-one\nC=from-one\n");
    write("two.env", "B=from-two\nC=from-two\n");
    env.set("C", "from-environment");
    auto vars = child_env({"-e", "one.env", "-e", "two.env"});
    BOOST_TEST(vars["A"] == "from-one");
    BOOST_TEST(vars["B"] == "from-two");
    BOOST_TEST(vars["C"] == "from-environment");
}

BOOST_FIXTURE_TEST_CASE(missing_required_key_fails_without_leaking_other_values, EnvFixture)
{
    write("vars.env", "PRESENT=super-secret-value-1\nOTHER=super-secret-value-2\n");
    write("m.manifest", "PRESENT\nOTHER\nABSENT\nALSO_ABSENT = nothing-here\n");
    Run r = run({"-m", "m.manifest", "-e", "vars.env", "--", helper("print_env")});
    BOOST_TEST(r.status == 125);
    BOOST_TEST(r.out == ""); // the command never ran
    BOOST_TEST(contains(r.err, "secrun: error: ABSENT: env://ABSENT: 'ABSENT' is not set in the environment, vars.env"));
    BOOST_TEST(contains(r.err, "secrun: error: ALSO_ABSENT: env://nothing-here: 'nothing-here' is not set in the environment, vars.env"));
    BOOST_TEST(contains(r.err, "not starting"));
    BOOST_TEST(!contains(r.err, "super-secret-value"));
}

BOOST_FIXTURE_TEST_CASE(optional_and_default_entries, EnvFixture)
{
    write("vars.env", "SET=1\n");
    write("m.manifest", "SET optional\nUNSET optional\nLEVEL default=info\nSPACED default=\"a b\"\n"
                        "SET_WITH_DEFAULT = SET default=2\n");
    auto vars = child_env({"-m", "m.manifest", "-e", "vars.env"});
    BOOST_TEST(vars["SET"] == "1");
    BOOST_TEST(vars.count("UNSET") == 0u);
    BOOST_TEST(vars["LEVEL"] == "info");
    BOOST_TEST(vars["SPACED"] == "a b");
    BOOST_TEST(vars["SET_WITH_DEFAULT"] == "1");
}

BOOST_FIXTURE_TEST_CASE(child_exit_status_passes_through, EnvFixture)
{
    for (int code : {0, 3, 255}) {
        Run r = run({"--", helper("exit_with"), std::to_string(code)});
        BOOST_TEST(r.status == code);
    }
}

BOOST_FIXTURE_TEST_CASE(command_not_found_is_127, EnvFixture)
{
    Run r = run({"--", "no-such-command-xyz"});
    BOOST_TEST(r.status == 127);
    BOOST_TEST(contains(r.err, "no-such-command-xyz"));
    Run abs = run({"--", "/nonexistent/dir/cmd"});
    BOOST_TEST(abs.status == 127);
    BOOST_TEST(contains(abs.err, "exec '/nonexistent/dir/cmd' failed: No such file or directory"));
}

BOOST_FIXTURE_TEST_CASE(command_not_executable_is_126, EnvFixture)
{
    const auto script = write("not-executable.sh", "#!/bin/sh\nexit 0\n");
    ::chmod(script.c_str(), 0644);
    Run r = run({"--", script});
    BOOST_TEST(r.status == 126);
    BOOST_TEST(contains(r.err, "Permission denied"));
    Run dir_run = run({"--", dir.path().string()});
    BOOST_TEST(dir_run.status == 126);
}

BOOST_FIXTURE_TEST_CASE(only_standard_fds_reach_the_child, EnvFixture)
{
    write("vars.env", "A=1\n");
    Run r = run({"-e", "vars.env", "--", helper("list_fds")});
    BOOST_TEST_REQUIRE(r.status == 0);
    BOOST_TEST(r.out == "0\n1\n2\n");
    // Also when secrun opened files and sockets of its own on the way (a
    // manifest, a dotenv file, a file entry, the event loop).
    write("m.manifest", "A\nA_FILE = A file\n");
    env.set("XDG_RUNTIME_DIR", dir.path().string());
    Run busy = run({"-m", "m.manifest", "-e", "vars.env", "--", helper("list_fds")});
    BOOST_TEST_REQUIRE(busy.status == 0);
    BOOST_TEST(busy.out == "0\n1\n2\n");
}

BOOST_FIXTURE_TEST_CASE(path_of_the_new_environment_is_searched, EnvFixture)
{
    // exit_with is only on the PATH the manifest sets, not on secrun's own.
    const auto helpers_dir = std::filesystem::path(helper("exit_with")).parent_path().string();
    write("vars.env", "NEW_PATH=" + helpers_dir + ":/usr/bin:/bin\n");
    write("m.manifest", "PATH = NEW_PATH\n");
    Run r = run({"-m", "m.manifest", "-e", "vars.env", "--", "exit_with", "7"});
    BOOST_TEST(r.status == 7);
    // Without it, the command is not found.
    Run without = run({"--", "exit_with", "7"});
    BOOST_TEST(without.status == 127);
}

BOOST_FIXTURE_TEST_CASE(pristine_keeps_only_resolved_variables, EnvFixture)
{
    env.set("INHERITED", "x");
    write("vars.env", "A=1\n");
    auto vars = child_env({"--pristine", "-e", "vars.env"});
    BOOST_TEST(vars.size() == 1u);
    BOOST_TEST(vars["A"] == "1");
}

BOOST_FIXTURE_TEST_CASE(preserve_env_keeps_inherited_values, EnvFixture)
{
    write("vars.env", "A=from-file\nB=from-file\n");
    write("m.manifest", "A = B\nB = A\n");
    env.set("A", "inherited-a");
    env.set("B", "inherited-b");
    // A resolves to B's value and B to A's; preserving B keeps its inherited value.
    auto vars = child_env({"-m", "m.manifest", "-e", "vars.env", "--preserve-env", "B"});
    BOOST_TEST(vars["A"] == "inherited-b");
    BOOST_TEST(vars["B"] == "inherited-b");
}

BOOST_FIXTURE_TEST_CASE(file_entries_write_a_private_0400_file, EnvFixture)
{
    write("vars.env", "CERT=\"-----BEGIN-----\nabc\n-----END-----\"\n");
    write("m.manifest", "CERT_PATH = CERT file\n");
    env.set("XDG_RUNTIME_DIR", dir.path().string());
    auto vars = child_env({"-m", "m.manifest", "-e", "vars.env"});
    const std::string path = vars["CERT_PATH"];
    BOOST_TEST_REQUIRE(!path.empty());
    BOOST_TEST(path.rfind(dir.path().string(), 0) == 0u);
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0400u);
    struct stat parent {};
    BOOST_TEST_REQUIRE(::stat(std::filesystem::path(path).parent_path().c_str(), &parent) == 0);
    BOOST_TEST((parent.st_mode & 0777) == 0700u);
    std::ifstream in(path);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_TEST(content == "-----BEGIN-----\nabc\n-----END-----");
}

BOOST_FIXTURE_TEST_CASE(manifest_errors_are_all_reported_and_nothing_runs, EnvFixture)
{
    write("bad.manifest", "GOOD\n1BAD\nDB = aws_secret://prod/db\n");
    Run r = run({"-m", "bad.manifest", "--", helper("print_env")});
    BOOST_TEST(r.status == 125);
    BOOST_TEST(r.out == "");
    BOOST_TEST(contains(r.err, "secrun: error: bad.manifest:2:1: "));
    BOOST_TEST(contains(r.err, "secrun: error: bad.manifest:3:6: unknown backend 'aws_secret' (did you mean 'aws_secrets'?)"));
}

BOOST_FIXTURE_TEST_CASE(environment_references_are_resolved, EnvFixture)
{
    write("vars.env", "REAL_PASSWORD='{\"password\":\"pw-from-json\"}'\n");
    env.set("DB_PASSWORD", "env://REAL_PASSWORD#password");
    env.set("WEBSITE", "https://example.com/"); // not a reference: untouched
    auto vars = child_env({"-e", "vars.env"});
    BOOST_TEST(vars["DB_PASSWORD"] == "pw-from-json");
    BOOST_TEST(vars["WEBSITE"] == "https://example.com/");
    auto off = child_env({"-e", "vars.env", "--no-env-references"});
    BOOST_TEST(off["DB_PASSWORD"] == "env://REAL_PASSWORD#password");
}

BOOST_FIXTURE_TEST_CASE(missing_json_field_names_the_field_not_the_value, EnvFixture)
{
    write("vars.env", "DB='{\"user\":\"muse-user-value\"}'\n");
    write("m.manifest", "PW = DB#password\n");
    Run r = run({"-m", "m.manifest", "-e", "vars.env", "--", "true"});
    BOOST_TEST(r.status == 125);
    BOOST_TEST(contains(r.err, "PW: env://DB#password: "));
    BOOST_TEST(contains(r.err, "password"));
    BOOST_TEST(!contains(r.err, "muse-user-value"));
}

BOOST_FIXTURE_TEST_CASE(check_prints_names_and_status_never_values, EnvFixture)
{
    write("vars.env", "A=value-of-a-123\nJ='{\"k\":\"value-of-k-456\"}'\n");
    write("m.manifest", "A\nK = J#k\nO optional\nD default=value-of-default-789\n");
    Run ok = run({"check", "-m", "m.manifest", "-e", "vars.env"});
    BOOST_TEST(ok.status == 0);
    BOOST_TEST(contains(ok.out, "NAME"));
    BOOST_TEST(contains(ok.out, "vars.env"));
    BOOST_TEST(contains(ok.out, "missing"));
    BOOST_TEST(contains(ok.out, "default"));
    for (auto leaked : {"value-of-a-123", "value-of-k-456", "value-of-default-789"}) {
        BOOST_TEST(!contains(ok.out, leaked));
        BOOST_TEST(!contains(ok.err, leaked));
    }
    write("m2.manifest", "A\nNOPE\n");
    Run bad = run({"check", "-m", "m2.manifest", "-e", "vars.env"});
    BOOST_TEST(bad.status == 1);
    BOOST_TEST(contains(bad.out, "error: 'NOPE' is not set"));
    BOOST_TEST(!contains(bad.out + bad.err, "value-of-a-123"));
}

BOOST_FIXTURE_TEST_CASE(a_value_with_a_nul_byte_is_refused_by_name, EnvFixture)
{
    write("vars.env", "J='{\"bin\":\"a\\u0000b\"}'\n");
    write("m.manifest", "BIN = J#bin\n");
    Run r = run({"-m", "m.manifest", "-e", "vars.env", "--", "true"});
    BOOST_TEST(r.status == 125);
    BOOST_TEST(contains(r.err, "BIN: env://J#bin: the value contains a NUL byte"));
    BOOST_TEST(contains(r.err, "use a file entry"));
}

BOOST_FIXTURE_TEST_CASE(world_readable_dotenv_gets_a_warning, EnvFixture)
{
    const auto path = write("vars.env", "A=1\n");
    ::chmod(path.c_str(), 0644);
    Run r = run({"-e", "vars.env", "--", "true"});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(contains(r.err, "secrun: warning: vars.env is readable by everyone"));
}

BOOST_FIXTURE_TEST_CASE(usage_errors_are_125_with_one_line, EnvFixture)
{
    Run none = run({});
    BOOST_TEST(none.status == 125);
    BOOST_TEST(contains(none.err, "no command given"));
    Run backend = run({"--backend", "dopler", "--", "true"});
    BOOST_TEST(backend.status == 125);
    BOOST_TEST(contains(backend.err, "--backend: unknown backend 'dopler' (did you mean 'doppler'?)"));
    env.set("SECRETS_BACKEND", "vault");
    Run variable = run({"--", "true"});
    BOOST_TEST(variable.status == 125);
    BOOST_TEST(contains(variable.err, "SECRETS_BACKEND: unknown backend 'vault'"));
    env.erase("SECRETS_BACKEND");
    Run missing = run({"-m", "no-such.manifest", "--", "true"});
    BOOST_TEST(missing.status == 125);
    BOOST_TEST(contains(missing.err, "manifest no-such.manifest: No such file or directory"));
}

BOOST_FIXTURE_TEST_CASE(a_backend_that_cannot_start_fails_every_variable_it_serves, EnvFixture)
{
    // No manifest: nothing is named yet, the listing itself failed.
    Run listing = run({"-e", "absent.env", "--", "true"});
    BOOST_TEST(listing.status == 125);
    BOOST_TEST(listing.err == "secrun: error: env: absent.env: cannot open: No such file or "
                              "directory\n"
                              "secrun: error: not starting 'true': the secrets of the env backend "
                              "could not be fetched\n");
    // One error, reported once, fails both variables.
    write("m.manifest", "A\nB\n");
    Run named = run({"-m", "m.manifest", "-e", "absent.env", "--", "true"});
    BOOST_TEST(named.status == 125);
    BOOST_TEST(named.err == "secrun: error: env (needed by A, B): absent.env: cannot open: No such "
                            "file or directory\n"
                            "secrun: error: not starting 'true': 2 of 2 variables failed\n");
}

BOOST_FIXTURE_TEST_CASE(verbose_flags_raise_the_log_level_once_per_v, EnvFixture)
{
    const std::string command = helper("exit_with");
    std::string info = "secrun: info: resolved 0 variables; starting '";
    info += command;
    info += "'\n";
    std::string debug = "secrun: debug: requests 0, connections 0, TLS handshakes 0, retries 0\n";
    debug += info;
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{}, ""},
        {{"-v"}, info},
        {{"--verbose"}, info},
        {{"-vv"}, debug},
        {{"-v", "-v"}, debug},
        {{"-v", "--verbose"}, debug},
    };
    for (const auto& [flags, expected] : cases) {
        std::vector<std::string> args = flags;
        args.insert(args.end(), {"--", command, "0"});
        Run r = run(args);
        BOOST_TEST_CONTEXT(flags.size() << " flag(s): " << (flags.empty() ? "" : flags.front()))
        {
            BOOST_TEST(r.status == 0);
            BOOST_TEST(r.err == expected);
        }
    }
    Run both = run({"-q", "-v", "--", command, "0"});
    BOOST_TEST(both.status == 125);
    BOOST_TEST(both.err == "secrun: error: -q and -v contradict each other\n");
}

BOOST_FIXTURE_TEST_CASE(help_and_version, EnvFixture)
{
    Run help = run({"--help"});
    BOOST_TEST(help.status == 0);
    for (auto word : {"--manifest", "--backend", "--env-file", "--pristine", "--preserve-env",
                      "--no-env-references", "--timeout", "SECRETS_BACKEND", "SECRETS_MANIFEST",
                      "AZURE_KEYVAULT_URL", "DOPPLER_TOKEN", "AWS_REGION"})
        BOOST_TEST(contains(help.out, word), word);
    Run version = run({"version"});
    BOOST_TEST(version.status == 0);
    BOOST_TEST(version.out.rfind("secrun ", 0) == 0u);
}

BOOST_FIXTURE_TEST_CASE(secrets_manifest_in_the_working_directory_is_the_default, EnvFixture)
{
    write("env.local", "X=from-env-local\n");
    ::chmod((dir / "env.local").c_str(), 0600);
    write("secrets.manifest", "Y = X\n");
    auto vars = child_env({});
    BOOST_TEST(vars["Y"] == "from-env-local");
    BOOST_TEST(vars.count("X") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
