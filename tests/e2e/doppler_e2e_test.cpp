// The secrun binary end to end on the Doppler backend, against the loopback
// fake cloud (secrun_fake_cloud): configuration as the seed document sets it,
// TLS verification, retries and limits, connection reuse, the CONNECT proxy,
// --scrub-credentials and `secrun check`.
//
// Every run is scanned: no secret value and no token may appear on secrun's
// stdout or stderr. A child that must show its environment writes it to a
// file (print_env FILE), so that the scan covers stdout too.
#include "e2e/harness.hpp"
#include "fakes/fake_cloud_process.hpp"
#include "fakes/temp_dir.hpp"
#include "https/tls.hpp"
#include "util/strings.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/json/object.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>

using namespace secrun;
using namespace secrun::e2e;
using testing::FakeCloudOptions;
using testing::FakeCloudProcess;
using testing::TempDir;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// As the seed document (shared/seed/secrets-management-setup.md) configures
// Doppler: DOPPLER_TOKEN (a service token), DOPPLER_PROJECT, SECRETS_BACKEND.
const std::string service_token = "dp.st.prd.S3rv1ceTok3nE2eQ8wLp";
const std::string personal_token = "dp.pt.P3rs0nalTok3nE2eK4zMn";
const std::string unknown_token = "dp.st.prd.Unkn0wnTok3nE2eR2d";
const std::string proxy_password = "pr0xy-pa55@e2e"; // '@' is percent-encoded in the URL
constexpr std::string_view download_path = "/v3/configs/config/secrets/download";

// Every value below contains "s3cr3t" and every token "Tok3n": the leak scan
// looks for those marks as well as for each full value.
const std::vector<std::string> secret_values = {
    "ch-host-s3cr3t-Vq81.internal",
    "dd-api-s3cr3t-Lm29x",
    "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse",
    "user-s3cr3t-Uu5",
    "json-s3cr3t-Pw77",
    "line one\nline \"two\" $HOME 'q' пароль-s3cr3t-Nn4",
    "postgres://alice:dev-s3cr3t-Ab3@localhost/dev",
    "alice-s3cr3t-Xy1",
    "aws-s3cr3t-Hh6",
};

const std::string doppler_vendor = R"("vendors": {"doppler": {
    "projects": {"muse": {
      "prd": {"secrets": {
        "CH_HOST": "ch-host-s3cr3t-Vq81.internal",
        "DD_API_KEY": "dd-api-s3cr3t-Lm29x",
        "DB_URL": "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse",
        "DB_JSON": "{\"user\":\"user-s3cr3t-Uu5\",\"password\":\"json-s3cr3t-Pw77\"}",
        "TRICKY": "line one\nline \"two\" $HOME 'q' пароль-s3cr3t-Nn4",
        "K01": "v01-s3cr3t", "K02": "v02-s3cr3t", "K03": "v03-s3cr3t", "K04": "v04-s3cr3t",
        "K05": "v05-s3cr3t", "K06": "v06-s3cr3t", "K07": "v07-s3cr3t", "K08": "v08-s3cr3t",
        "K09": "v09-s3cr3t", "K10": "v10-s3cr3t", "K11": "v11-s3cr3t", "K12": "v12-s3cr3t"}},
      "dev_alice": {"secrets": {
        "DB_URL": "postgres://alice:dev-s3cr3t-Ab3@localhost/dev",
        "ALICE_ONLY": "alice-s3cr3t-Xy1"}}
    }},
    "tokens": {
      "dp.st.prd.S3rv1ceTok3nE2eQ8wLp": {"project": "muse", "config": "prd"},
      "dp.pt.P3rs0nalTok3nE2eK4zMn": {}
    }
  }})";

// A scenario: the Doppler data, plus fault rules and other top-level keys.
std::string scenario(const std::vector<std::string>& faults = {}, std::string_view extra = "")
{
    std::string text = "{\"faults\": [";
    for (const auto& fault : faults) {
        if (&fault != &faults.front())
            text += ", ";
        text += fault;
    }
    text += "], ";
    if (!extra.empty()) {
        text += extra;
        text += ", ";
    }
    text += doppler_vendor;
    text += "}";
    return text;
}

// A fault rule for the next `count` downloads (-1: all of them).
std::string download_fault(std::string_view action_and_options, int count = 1)
{
    return util::str_cat("{\"path\": \"", download_path, "\", \"count\": ", std::to_string(count),
                         ", ", action_and_options, "}");
}

// No value, no token and no proxy password in `text`.
void expect_nothing_secret(const std::string& text, std::string_view what)
{
    BOOST_TEST_CONTEXT(what << ": " << text)
    {
        BOOST_TEST(!contains(text, "s3cr3t"));
        for (const auto& value : secret_values)
            BOOST_TEST(!contains(text, value));
        BOOST_TEST(!contains(text, "Tok3n"));
        BOOST_TEST(!contains(text, service_token));
        BOOST_TEST(!contains(text, personal_token));
        BOOST_TEST(!contains(text, unknown_token));
        BOOST_TEST(!contains(text, "pr0xy-pa55"));
    }
}

// Whether secrun starts without the system bundle file (the system
// directory is hashed): then a certificate from an unknown issuer gets a
// second handshake with the bundle loaded (https/tls.hpp, make_context).
bool system_bundle_skipped()
{
    const auto context = https::tls::make_context(https::tls::TrustSettings::from(EnvMap{}, ""));
    return context && context->bundle_skipped;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

milliseconds since(Clock::time_point start)
{
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

// The delay of a "secrun: info: retrying ... (attempt N of M) in D ms: REASON"
// line, in milliseconds; -1 when the line has no such delay.
long retry_delay_ms(const std::string& line)
{
    const auto in = line.find(") in ");
    const auto ms = line.find(" ms: ", in);
    if (in == std::string::npos || ms == std::string::npos)
        return -1;
    const std::string digits = line.substr(in + 5, ms - in - 5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
        return -1;
    return std::stol(digits);
}

bool ends_with(const std::string& text, std::string_view tail)
{
    return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// stderr split into lines (without their '\n').
std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

struct DopplerFixture {
    TempDir dir{"e2e-doppler"};
    EnvMap env = base_env();
    std::filesystem::path child_file = dir / "child.env0";

    // The seed's configuration, pointed at `cloud` and trusting its CA.
    void configure(const FakeCloudProcess& cloud)
    {
        env.set("SECRETS_BACKEND", "doppler");
        env.set("DOPPLER_TOKEN", service_token);
        env.set("DOPPLER_PROJECT", "muse");
        env.set("DOPPLER_API_HOST", cloud.https_url());
        env.set("SSL_CERT_FILE", cloud.ca_file().string());
    }

    std::string write(std::string_view name, std::string_view content)
    {
        return dir.write(name, content).string();
    }

    // Runs secrun and scans both of its outputs.
    Run run(const std::vector<std::string>& args)
    {
        std::filesystem::remove(child_file);
        Run r = run_secrun(args, env, dir.path());
        expect_nothing_secret(r.out, "stdout");
        expect_nothing_secret(r.err, "stderr");
        return r;
    }

    // secrun ARGS -- print_env FILE
    Run run_child(std::vector<std::string> args)
    {
        args.push_back("--");
        args.push_back(helper("print_env"));
        args.push_back(child_file.string());
        return run(args);
    }

    // The environment the child wrote, after a run that must have succeeded.
    std::map<std::string, std::string> child_env(const Run& r)
    {
        BOOST_TEST_INFO("stderr: " << r.err);
        BOOST_TEST_REQUIRE(r.status == 0);
        BOOST_TEST(r.out == "");
        return parse_env0(read_file(child_file));
    }

    // A run that failed before starting the command (stderr is checked by the caller).
    void expect_not_started(const Run& r)
    {
        BOOST_TEST(r.status == 125);
        BOOST_TEST(r.out == "");
        BOOST_TEST(!std::filesystem::exists(child_file)); // the command never ran
    }
};

// The exact stderr of a run without a manifest whose Doppler download failed.
std::string whole_config_failure(std::string_view message)
{
    return util::str_cat("secrun: error: doppler: ", message, "\nsecrun: error: not starting '",
                         helper("print_env"),
                         "': the secrets of the doppler backend could not be fetched\n");
}

} // namespace

BOOST_AUTO_TEST_SUITE(doppler_e2e)

// ---- configuration and results ------------------------------------------

BOOST_FIXTURE_TEST_CASE(seed_configuration_injects_every_secret_but_dopplers_own, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    Run r = run_child({});
    auto vars = child_env(r);
    BOOST_TEST(r.err == "");
    BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
    BOOST_TEST(vars["DD_API_KEY"] == "dd-api-s3cr3t-Lm29x");
    BOOST_TEST(vars["DB_URL"] == "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse");
    BOOST_TEST(vars["DB_JSON"] == R"({"user":"user-s3cr3t-Uu5","password":"json-s3cr3t-Pw77"})");
    BOOST_TEST(vars["TRICKY"] == "line one\nline \"two\" $HOME 'q' пароль-s3cr3t-Nn4");
    BOOST_TEST(vars["K12"] == "v12-s3cr3t");
    // Doppler's managed DOPPLER_CONFIG and DOPPLER_ENVIRONMENT are not
    // injected; DOPPLER_PROJECT and the token are the inherited ones.
    BOOST_TEST(vars.count("DOPPLER_CONFIG") == 0u);
    BOOST_TEST(vars.count("DOPPLER_ENVIRONMENT") == 0u);
    BOOST_TEST(vars["DOPPLER_PROJECT"] == "muse");
    BOOST_TEST(vars["DOPPLER_TOKEN"] == service_token);
    BOOST_TEST(vars["PATH"] == "/usr/bin:/bin");
    // 17 secrets + the 6 variables of the environment.
    BOOST_TEST(vars.size() == 17u + 6u);

    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);

    // The same with --ca-file instead of SSL_CERT_FILE.
    env.erase("SSL_CERT_FILE");
    Run with_flag = run_child({"--ca-file", cloud.ca_file().string()});
    auto flag_vars = child_env(with_flag);
    BOOST_TEST(with_flag.err == "");
    BOOST_TEST(flag_vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 2u);

    // A service token implies its project: without DOPPLER_PROJECT the child
    // gets none, so Doppler's own DOPPLER_PROJECT was not injected either.
    env.erase("DOPPLER_PROJECT");
    Run implied = run_child({"--ca-file", cloud.ca_file().string()});
    auto implied_vars = child_env(implied);
    BOOST_TEST(implied.err == "");
    BOOST_TEST(implied_vars["DB_URL"] == "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse");
    BOOST_TEST(implied_vars.count("DOPPLER_PROJECT") == 0u);
    BOOST_TEST(implied_vars.size() == 17u + 4u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_manifest_injects_only_its_names, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    write("secrets.manifest", "CH_HOST\n"
                              "DATABASE_URL = DB_URL\n"
                              "DB_PASSWORD = doppler://DB_JSON#password\n"
                              "SENTRY_DSN optional\n"
                              "LOG_LEVEL default=info\n");
    Run r = run_child({});
    auto vars = child_env(r);
    BOOST_TEST(r.err == "");
    BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
    BOOST_TEST(vars["DATABASE_URL"] == "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse");
    BOOST_TEST(vars["DB_PASSWORD"] == "json-s3cr3t-Pw77");
    BOOST_TEST(vars.count("SENTRY_DSN") == 0u);
    BOOST_TEST(vars["LOG_LEVEL"] == "info");
    for (const char* absent : {"DB_URL", "DB_JSON", "DD_API_KEY", "TRICKY", "K01", "DOPPLER_CONFIG"})
        BOOST_TEST(vars.count(absent) == 0u, absent << " was injected");
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
}

BOOST_FIXTURE_TEST_CASE(many_keys_need_one_download_on_one_connection, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    std::string manifest;
    for (int i = 1; i <= 12; ++i) {
        const std::string n = util::str_cat(i < 10 ? "0" : "", std::to_string(i));
        manifest += util::str_cat("VAR_", n, " = K", n, "\n");
    }
    manifest += "CH_HOST\nDB_USER = DB_JSON#user\nDB_PASSWORD = DB_JSON#password\n";
    write("many.manifest", manifest);
    Run r = run_child({"-m", "many.manifest", "-vv"});
    auto vars = child_env(r);
    // secrun's own count agrees with the server's.
    BOOST_TEST(r.err == util::str_cat("secrun: debug: requests 1, connections 1, TLS handshakes 1, "
                                      "retries 0\nsecrun: info: resolved 15 variables; starting '",
                                      helper("print_env"), "'\n"));
    BOOST_TEST(vars["VAR_01"] == "v01-s3cr3t");
    BOOST_TEST(vars["VAR_12"] == "v12-s3cr3t");
    BOOST_TEST(vars["DB_USER"] == "user-s3cr3t-Uu5");
    BOOST_TEST(vars["DB_PASSWORD"] == "json-s3cr3t-Pw77");
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
    BOOST_TEST(cloud.counter("requests_total") == 1u);
    BOOST_TEST(cloud.counter("connections.https") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_personal_token_reads_the_named_project_and_config, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    env.set("DOPPLER_TOKEN", personal_token);
    env.set("DOPPLER_CONFIG", "dev_alice");
    Run r = run_child({});
    auto vars = child_env(r);
    BOOST_TEST(r.err == "");
    BOOST_TEST(vars["DB_URL"] == "postgres://alice:dev-s3cr3t-Ab3@localhost/dev");
    BOOST_TEST(vars["ALICE_ONLY"] == "alice-s3cr3t-Xy1");
    BOOST_TEST(vars.count("CH_HOST") == 0u);
    BOOST_TEST(vars["DOPPLER_CONFIG"] == "dev_alice"); // inherited, not Doppler's
    BOOST_TEST(vars.count("DOPPLER_ENVIRONMENT") == 0u);

    // Without DOPPLER_CONFIG a personal token names no config: nothing is sent.
    env.erase("DOPPLER_CONFIG");
    Run missing = run_child({});
    expect_not_started(missing);
    BOOST_TEST(missing.err ==
               whole_config_failure("DOPPLER_CONFIG is not set (required unless DOPPLER_TOKEN "
                                    "is a service token, dp.st.)"));
    // With a manifest, the one configuration error fails every variable.
    write("alice.manifest", "DB_URL\nALICE_ONLY\n");
    Run named = run_child({"-m", "alice.manifest"});
    expect_not_started(named);
    BOOST_TEST(named.err == util::str_cat("secrun: error: doppler (needed by DB_URL, ALICE_ONLY): "
                                          "DOPPLER_CONFIG is not set (required unless "
                                          "DOPPLER_TOKEN is a service token, dp.st.)\n"
                                          "secrun: error: not starting '",
                                          helper("print_env"), "': 2 of 2 variables failed\n"));
    BOOST_TEST(cloud.counter("requests_total") == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_missing_key_names_the_key_and_the_config, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    write("m.manifest", "CH_HOST\nNOT_THERE\nRENAMED = ALSO_NOT_THERE\n");
    Run r = run_child({"-m", "m.manifest"});
    expect_not_started(r);
    BOOST_TEST(r.err ==
               "secrun: error: NOT_THERE: doppler://NOT_THERE: no secret 'NOT_THERE' in Doppler "
               "muse/prd\n"
               "secrun: error: RENAMED: doppler://ALSO_NOT_THERE: no secret 'ALSO_NOT_THERE' in "
               "Doppler muse/prd\n"
               "secrun: error: not starting '" +
                   helper("print_env") + "': 2 of 3 variables failed\n");
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_token_is_401_with_dopplers_message, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    env.set("DOPPLER_TOKEN", unknown_token);
    Run r = run_child({"--retries", "2"});
    expect_not_started(r);
    BOOST_TEST(r.err == whole_config_failure("Doppler rejected DOPPLER_TOKEN for the service "
                                             "token's config (HTTP 401: Invalid Auth token)"));
    BOOST_TEST(cloud.requests("GET", download_path) == 1u); // a 401 is not retried
    BOOST_TEST(cloud.counter("vendor.doppler.auth_failures") == 1u);
}

// ---- TLS ----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(untrusted_certificates_fail_naming_the_host_and_the_reason,
                        DopplerFixture)
{
    struct Case {
        std::string cert;
        bool trust_test_ca;
        bool localhost;
        std::string reason;
    };
    const Case cases[] = {
        {"wrong-host", true, false, "IP address mismatch"},
        {"wrong-host", true, true, "hostname mismatch"},
        {"expired", true, false, "certificate has expired"},
        {"self-signed", true, false, "self-signed certificate"},
        {"valid", false, false, "unable to get local issuer certificate"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT("--cert " << c.cert << (c.trust_test_ca ? "" : ", no SSL_CERT_FILE")
                                     << (c.localhost ? ", localhost" : ""))
        {
            FakeCloudProcess cloud({.scenario = scenario(), .cert = c.cert});
            configure(cloud);
            const std::string origin = c.localhost ? cloud.https_localhost_url() : cloud.https_url();
            env.set("DOPPLER_API_HOST", origin);
            if (!c.trust_test_ca)
                env.erase("SSL_CERT_FILE");
            Run r = run_child({"--retries", "2"});
            expect_not_started(r);
            BOOST_TEST(r.err == whole_config_failure("Doppler: TLS handshake with " + origin +
                                                     " failed: certificate verify failed (" +
                                                     c.reason + ")"));
            // Rejected inside the handshake and not retried (--retries does
            // not apply), but for the unknown issuer when the system bundle
            // was skipped: then once more with it. No request was sent.
            const int handshakes = !c.trust_test_ca && system_bundle_skipped() ? 2 : 1;
            BOOST_TEST(cloud.wait_for([handshakes](const boost::json::object& s) {
                return s.at("tls_handshake_failures").to_number<int>() >= handshakes;
            }));
            BOOST_TEST(cloud.counter("tls_handshake_failures") == static_cast<unsigned>(handshakes));
            BOOST_TEST(cloud.counter("tls_handshakes") == 0u);
            BOOST_TEST(cloud.counter("connections.https") == static_cast<unsigned>(handshakes));
            BOOST_TEST(cloud.counter("requests_total") == 0u);
        }
    }
}

// ---- retries, limits and broken answers -----------------------------------

BOOST_FIXTURE_TEST_CASE(two_server_errors_then_success_with_the_retries_logged, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario({download_fault(R"("action": "status",
        "status": 500, "body": {"messages": ["Internal error"], "success": false})", 2)})});
    configure(cloud);
    Run r = run_child({"-v"});
    child_env(r);
    const std::string retrying = "secrun: info: retrying GET " + cloud.https_url() +
                                 std::string(download_path) + " (attempt ";
    const auto lines = lines_of(r.err);
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST_REQUIRE(lines.size() == 3u);
    BOOST_TEST(lines[0].rfind(retrying + "2 of 5) in ", 0) == 0u);
    BOOST_TEST(ends_with(lines[0], " ms: HTTP 500"));
    BOOST_TEST(lines[1].rfind(retrying + "3 of 5) in ", 0) == 0u);
    BOOST_TEST(ends_with(lines[1], " ms: HTTP 500"));
    // Full jitter: below 200 ms, then below 400 ms.
    BOOST_TEST(retry_delay_ms(lines[0]) >= 0);
    BOOST_TEST(retry_delay_ms(lines[0]) < 200);
    BOOST_TEST(retry_delay_ms(lines[1]) >= 0);
    BOOST_TEST(retry_delay_ms(lines[1]) < 400);
    BOOST_TEST(lines[2] == "secrun: info: resolved 17 variables; starting '" +
                               helper("print_env") + "'");
    BOOST_TEST(cloud.requests("GET", download_path) == 3u);
    BOOST_TEST(cloud.counter("faults_applied") == 2u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 1u);
    // A 500 keeps the connection: the retries reuse it.
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_429_waits_for_retry_after, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario({download_fault(R"("action": "status",
        "status": 429, "headers": {"Retry-After": "1"},
        "body": {"messages": ["Too many requests"], "success": false})")})});
    configure(cloud);
    const auto start = Clock::now();
    Run r = run_child({"-v"});
    const auto elapsed = since(start);
    child_env(r);
    BOOST_TEST(elapsed.count() >= 1000);
    BOOST_TEST(contains(r.err, "secrun: info: retrying GET " + cloud.https_url() +
                                   std::string(download_path) +
                                   " (attempt 2 of 5) in 1 s: HTTP 429\n"));
    BOOST_TEST(cloud.requests("GET", download_path) == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_stall_is_cut_off_by_the_timeout, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario({download_fault(R"("action": "stall")", -1)})});
    configure(cloud);
    const auto start = Clock::now();
    Run r = run_child({"--timeout", "2s"});
    const auto elapsed = since(start);
    expect_not_started(r);
    BOOST_TEST(r.err == whole_config_failure("Doppler: receive from " + cloud.https_url() +
                                             " did not finish before the overall deadline "
                                             "(--timeout)"));
    BOOST_TEST(elapsed.count() >= 1900);
    BOOST_TEST(elapsed.count() < 3500); // the deadline, plus slack for a loaded machine
}

BOOST_FIXTURE_TEST_CASE(oversized_and_invalid_bodies_are_rejected_not_retried, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario(
                                {download_fault(R"("action": "oversize", "size": 2097152)"),
                                 download_fault(R"("action": "invalid_json")")})});
    configure(cloud);

    Run big = run_child({"--retries", "2"});
    expect_not_started(big);
    BOOST_TEST(big.err == whole_config_failure("Doppler: response from " + cloud.https_url() +
                                               " is larger than 1 MiB"));
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);

    Run invalid = run_child({"--retries", "2"});
    expect_not_started(invalid);
    BOOST_TEST(invalid.err ==
               whole_config_failure("Doppler returned invalid JSON for the service token's "
                                    "config (incomplete JSON)"));
    BOOST_TEST(cloud.requests("GET", download_path) == 2u);

    // Both rules are used up: the next run succeeds.
    Run ok = run_child({});
    child_env(ok);
    BOOST_TEST(cloud.requests("GET", download_path) == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_reset_and_a_truncated_body_are_retried, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario({download_fault(R"("action": "reset")"),
                                                  download_fault(R"("action": "truncate")")})});
    configure(cloud);
    Run r = run_child({"-v"});
    child_env(r);
    const std::string retrying = "secrun: info: retrying GET " + cloud.https_url() +
                                 std::string(download_path);
    const auto lines = lines_of(r.err);
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST_REQUIRE(lines.size() == 3u);
    BOOST_TEST(lines[0].rfind(retrying + " (attempt 2 of 5) in ", 0) == 0u);
    BOOST_TEST(contains(lines[0], " ms: receive from " + cloud.https_url() +
                                      " failed: Connection reset by peer"));
    BOOST_TEST(lines[1].rfind(retrying + " (attempt 3 of 5) in ", 0) == 0u);
    BOOST_TEST(contains(lines[1], " ms: receive from " + cloud.https_url() +
                                      " failed: the server closed the connection in the middle "
                                      "of the response"));
    BOOST_TEST(cloud.requests("GET", download_path) == 3u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 3u); // neither connection could be kept

    // With no retries left, a truncated body is an error that says so.
    FakeCloudProcess truncating({.scenario = scenario(
                                     {download_fault(R"("action": "truncate")")})});
    configure(truncating);
    Run cut = run_child({"--retries", "0"});
    expect_not_started(cut);
    BOOST_TEST(cut.err == whole_config_failure("Doppler: receive from " + truncating.https_url() +
                                               " failed: the server closed the connection in "
                                               "the middle of the response"));
}

// ---- connections ----------------------------------------------------------

// Doppler and AWS Secrets Manager on one origin (the fake answers AWS's
// GetSecretValue with a canned document). Each answer takes 300 ms, so both
// requests are in flight together: by default each gets its own connection;
// with --concurrency 1 the second waits for the first one's connection.
BOOST_FIXTURE_TEST_CASE(a_mixed_run_shares_the_per_host_connections, DopplerFixture)
{
    const std::string aws_answer = R"({"method": "POST", "path": "/", "count": -1,
        "action": "status", "status": 200,
        "headers": {"Content-Type": "application/x-amz-json-1.1"},
        "body": {"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
                 "Name": "prod/db", "VersionId": "v-1", "VersionStages": ["AWSCURRENT"],
                 "SecretString": "{\"password\":\"aws-s3cr3t-Hh6\"}"}})";
    for (const bool one_connection : {false, true}) {
        BOOST_TEST_CONTEXT((one_connection ? "--concurrency 1" : "default concurrency"))
        {
            FakeCloudProcess cloud(
                {.scenario = scenario({aws_answer}, R"("latency_ms": 300)")});
            configure(cloud);
            env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", cloud.https_url());
            env.set("AWS_REGION", "eu-west-1");
            env.set("AWS_ACCESS_KEY_ID", "AKIAE2EEXAMPLE");
            env.set("AWS_SECRET_ACCESS_KEY", "aws-key-s3cr3t-Jj2");
            write("mixed.manifest", "CH_HOST\nDB_PASSWORD = aws_secrets://prod/db#password\n");
            std::vector<std::string> args{"-m", "mixed.manifest"};
            if (one_connection)
                args.insert(args.end(), {"--concurrency", "1"});
            const auto start = Clock::now();
            Run r = run_child(args);
            const auto elapsed = since(start);
            auto vars = child_env(r);
            BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
            BOOST_TEST(vars["DB_PASSWORD"] == "aws-s3cr3t-Hh6");
            BOOST_TEST(cloud.requests("GET", download_path) == 1u);
            BOOST_TEST(cloud.requests("POST", "/") == 1u);
            const std::uint64_t expected = one_connection ? 1u : 2u;
            BOOST_TEST(cloud.counter("connections.https") == expected);
            BOOST_TEST(cloud.counter("tls_handshakes") == expected);
            if (one_connection)
                BOOST_TEST(elapsed.count() >= 600); // one after the other
        }
    }
}

// ---- proxy ----------------------------------------------------------------

// secrun never sends loopback traffic through a proxy (as Go and the cloud
// SDKs); the fake's proxy resolves *.fake-cloud.test names to itself, so a
// request to such a name can only arrive through the proxy.
BOOST_FIXTURE_TEST_CASE(https_proxy_tunnels_with_basic_auth_from_its_url, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario(
                                {}, R"("proxy": {"basic_auth": "e2e-user:pr0xy-pa55@e2e"})")});
    configure(cloud);
    const std::string origin = cloud.https_proxied_url("doppler");
    env.set("DOPPLER_API_HOST", origin);
    const std::string proxy_host = "127.0.0.1:" + std::to_string(cloud.proxy_port());
    env.set("HTTPS_PROXY", "http://e2e-user:pr0xy-pa55%40e2e@" + proxy_host);
    Run r = run_child({});
    auto vars = child_env(r);
    BOOST_TEST(r.err == "");
    BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
    BOOST_TEST(cloud.counter("proxy_tunnels") == 1u);
    BOOST_TEST(cloud.counter("proxy_auth_failures") == 0u);
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);

    // NO_PROXY entries that do not match (another name, another port) keep the proxy.
    env.set("NO_PROXY", "example.com,doppler.fake-cloud.test:1,10.0.0.0/8");
    Run kept = run_child({});
    child_env(kept);
    BOOST_TEST(cloud.counter("proxy_tunnels") == 2u);

    // Wrong credentials: the proxy's 407, one line, no password.
    env.set("HTTPS_PROXY", "http://e2e-user:wrong-pr0xy-pa55@" + proxy_host);
    Run denied = run_child({"--retries", "2"});
    expect_not_started(denied);
    BOOST_TEST(denied.err ==
               whole_config_failure("Doppler: proxy CONNECT to " + origin + " via http://" + proxy_host +
                                    " failed: HTTP 407 Proxy Authentication Required"));
    BOOST_TEST(cloud.counter("proxy_auth_failures") == 1u);
    BOOST_TEST(cloud.counter("proxy_tunnels") == 2u);
}

BOOST_FIXTURE_TEST_CASE(no_proxy_and_loopback_bypass_the_proxy, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    env.set("HTTPS_PROXY", cloud.proxy_url());
    env.set("NO_PROXY", "127.0.0.1");
    Run r = run_child({});
    child_env(r);
    env.erase("NO_PROXY"); // a loopback address is never proxied
    Run loopback = run_child({});
    child_env(loopback);
    BOOST_TEST(cloud.counter("connections.proxy") == 0u);
    BOOST_TEST(cloud.counter("proxy_tunnels") == 0u);
    BOOST_TEST(cloud.requests("GET", download_path) == 2u);
}

// ---- the command's environment and `check` --------------------------------

BOOST_FIXTURE_TEST_CASE(scrub_credentials_removes_the_token_from_the_child, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    Run r = run_child({"--scrub-credentials"});
    auto vars = child_env(r);
    BOOST_TEST(vars.count("DOPPLER_TOKEN") == 0u);
    BOOST_TEST(vars["DOPPLER_PROJECT"] == "muse"); // configuration, not a credential
    BOOST_TEST(vars["DOPPLER_API_HOST"] == cloud.https_url());
    BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
}

BOOST_FIXTURE_TEST_CASE(check_prints_names_and_status_never_values, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    write("m.manifest", "CH_HOST\n"
                        "DB_PASSWORD = DB_JSON#password\n"
                        "SENTRY_DSN optional\n"
                        "LOG_LEVEL default=info\n");
    Run r = run({"check", "-m", "m.manifest"});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.out == "NAME         BACKEND  KEY                         SOURCE    STATUS\n"
                        "CH_HOST      doppler  doppler://CH_HOST           muse/prd  ok\n"
                        "DB_PASSWORD  doppler  doppler://DB_JSON#password  muse/prd  ok\n"
                        "SENTRY_DSN   doppler  doppler://SENTRY_DSN        -         missing\n"
                        "LOG_LEVEL    doppler  doppler://LOG_LEVEL         default   default\n");

    // A failure: its row says why, stderr repeats it, the status is 1.
    write("bad.manifest", "CH_HOST\nNOT_THERE\n");
    Run failed = run({"check", "-m", "bad.manifest"});
    BOOST_TEST(failed.status == 1);
    BOOST_TEST(failed.out == "NAME       BACKEND  KEY                  SOURCE    STATUS\n"
                             "CH_HOST    doppler  doppler://CH_HOST    muse/prd  ok\n"
                             "NOT_THERE  doppler  doppler://NOT_THERE  -         error: no secret "
                             "'NOT_THERE' in Doppler muse/prd\n");
    BOOST_TEST(failed.err ==
               "secrun: error: NOT_THERE: doppler://NOT_THERE: no secret 'NOT_THERE' in Doppler "
               "muse/prd\n");

    // No manifest: every secret of the config, by name, none of Doppler's own.
    Run all = run({"check"});
    BOOST_TEST(all.status == 0);
    BOOST_TEST(all.err == "");
    const auto rows = lines_of(all.out);
    BOOST_TEST_INFO("stdout: " << all.out);
    BOOST_TEST_REQUIRE(rows.size() == 18u);
    BOOST_TEST(rows[0] == "NAME        BACKEND  KEY                   SOURCE    STATUS");
    BOOST_TEST(rows[1] == "CH_HOST     doppler  doppler://CH_HOST     muse/prd  ok");
    BOOST_TEST(rows[17] == "TRICKY      doppler  doppler://TRICKY      muse/prd  ok");
    BOOST_TEST(!contains(all.out, "DOPPLER_"));
    BOOST_TEST(cloud.requests("GET", download_path) == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
