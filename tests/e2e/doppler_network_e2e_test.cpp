// The secrun binary end to end on the Doppler backend, against the loopback
// fake cloud (secrun_fake_cloud): TLS verification, retries and limits,
// connection reuse and the CONNECT proxy.
//
// Every run's stdout and stderr are scanned for values and tokens
// (doppler_fixture.hpp).
#include "e2e/doppler_fixture.hpp"
#include "util/strings.hpp"

#include <boost/json/object.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace secrun;
using namespace secrun::e2e;
using namespace secrun::e2e::doppler;
using testing::FakeCloudProcess;
using Clock = std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(doppler_e2e)

// ---- TLS ----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(untrusted_certificates_fail_naming_the_host_and_the_reason, DopplerFixture)
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
            const std::string origin =
                c.localhost ? cloud.https_localhost_url() : cloud.https_url();
            env.set("DOPPLER_API_HOST", origin);
            if (!c.trust_test_ca)
                env.erase("SSL_CERT_FILE");
            Run r = run_child({"--retries", "2"});
            expect_not_started(r);
            BOOST_TEST(r.err == whole_config_failure("TLS handshake with " + origin +
                                                     " failed: certificate verify failed (" +
                                                     c.reason + ")"));
            // Rejected inside the handshake and not retried (--retries does
            // not apply), but for the unknown issuer when the system bundle
            // was skipped: then once more with it. No request was sent.
            const int handshakes = !c.trust_test_ca && system_bundle_skipped() ? 2 : 1;
            BOOST_TEST(cloud.wait_for([handshakes](const boost::json::object& s) {
                return s.at("tls_handshake_failures").to_number<int>() >= handshakes;
            }));
            BOOST_TEST(cloud.counter("tls_handshake_failures") ==
                       static_cast<unsigned>(handshakes));
            BOOST_TEST(cloud.counter("tls_handshakes") == 0u);
            BOOST_TEST(cloud.counter("connections.https") == static_cast<unsigned>(handshakes));
            BOOST_TEST(cloud.counter("requests_total") == 0u);
        }
    }
}

// ---- retries, limits and broken answers -----------------------------------

BOOST_FIXTURE_TEST_CASE(two_server_errors_then_success_with_the_retries_logged, DopplerFixture)
{
    const std::string server_error = download_fault(
        R"("action": "status", "status": 500,
            "body": {"messages": ["Internal error"], "success": false})",
        2);
    FakeCloudProcess cloud({.scenario = scenario({server_error})});
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
    BOOST_TEST(lines[2] ==
               "secrun: info: resolved 17 variables; starting '" + helper("print_env") + "'");
    BOOST_TEST(cloud.requests("GET", download_path) == 3u);
    BOOST_TEST(cloud.counter("faults_applied") == 2u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 1u);
    // A 500 keeps the connection: the retries reuse it.
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_429_waits_for_retry_after, DopplerFixture)
{
    const std::string throttled = download_fault(
        R"("action": "status", "status": 429, "headers": {"Retry-After": "1"},
            "body": {"messages": ["Too many requests"], "success": false})");
    FakeCloudProcess cloud({.scenario = scenario({throttled})});
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
    BOOST_TEST(r.err == whole_config_failure("receive from " + cloud.https_url() +
                                             " did not finish before the overall deadline "
                                             "(--timeout)"));
    BOOST_TEST(elapsed.count() >= 1900);
    BOOST_TEST(elapsed.count() < 3500); // the deadline, plus slack for a loaded machine
}

BOOST_FIXTURE_TEST_CASE(oversized_and_invalid_bodies_are_rejected_not_retried, DopplerFixture)
{
    FakeCloudProcess cloud(
        {.scenario = scenario({download_fault(R"("action": "oversize", "size": 2097152)"),
                               download_fault(R"("action": "invalid_json")")})});
    configure(cloud);

    Run big = run_child({"--retries", "2"});
    expect_not_started(big);
    BOOST_TEST(big.err == whole_config_failure("response from " + cloud.https_url() +
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
    const std::string retrying =
        "secrun: info: retrying GET " + cloud.https_url() + std::string(download_path);
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
    FakeCloudProcess truncating(
        {.scenario = scenario({download_fault(R"("action": "truncate")")})});
    configure(truncating);
    Run cut = run_child({"--retries", "0"});
    expect_not_started(cut);
    BOOST_TEST(cut.err == whole_config_failure("receive from " + truncating.https_url() +
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
            FakeCloudProcess cloud({.scenario = scenario({aws_answer}, R"("latency_ms": 300)")});
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
    FakeCloudProcess cloud(
        {.scenario = scenario({}, R"("proxy": {"basic_auth": "e2e-user:pr0xy-pa55@e2e"})")});
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
               whole_config_failure("proxy CONNECT to " + origin + " via http://" + proxy_host +
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

BOOST_AUTO_TEST_SUITE_END()
