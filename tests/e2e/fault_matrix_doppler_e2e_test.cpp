// The fault matrix for the Doppler backend (fault_matrix.hpp): the whole
// config of the seed's service token, downloaded in one request, which the
// faults aim at. Doppler has no credential endpoint (the token is the
// credential), so the matrix has no "credential endpoint down" row here.
#include "e2e/doppler_fixture.hpp"
#include "e2e/fault_matrix.hpp"

#include <boost/test/unit_test.hpp>

using namespace secrun;
using namespace secrun::e2e;
using namespace secrun::e2e::faults;
using testing::FakeCloudProcess;

namespace
{

const std::string download(doppler::download_path);
const std::string failed_start =
    "secrun: error: not starting '{print_env}': the secrets of the doppler backend could not be "
    "fetched";

std::string on_download(std::string_view options, int count = 1)
{
    return rule("GET", download, options, count);
}

std::string retrying(int attempt, std::string_view reason, std::string_view origin = "{https}")
{
    return "secrun: info: retrying GET " + std::string(origin) + download + " (attempt " +
           std::to_string(attempt) + " of 3) in " + std::string(reason);
}

Backend doppler_backend()
{
    Backend b;
    b.name = "doppler";
    b.scenario = [](const std::vector<std::string>& faults) { return doppler::scenario(faults); };
    b.configure = [](EnvMap& env, const FakeCloudProcess& cloud) {
        env.set("SECRETS_BACKEND", "doppler");
        env.set("DOPPLER_TOKEN", doppler::service_token);
        env.set("DOPPLER_PROJECT", "muse");
        env.set("DOPPLER_API_HOST", cloud.https_url());
        env.set("SSL_CERT_FILE", cloud.ca_file().string());
    };
    b.method = "GET";
    b.path = download;
    b.values = {{"CH_HOST", "ch-host-s3cr3t-Vq81.internal"},
                {"DB_URL", "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse"},
                {"TRICKY", "line one\nline \"two\" $HOME 'q' пароль-s3cr3t-Nn4"}};
    b.secrets = doppler::secret_values;
    for (const auto* mark : {"s3cr3t", "Tok3n"})
        b.secrets.emplace_back(mark);
    for (const auto& token :
         {doppler::service_token, doppler::personal_token, doppler::unknown_token})
        b.secrets.push_back(token);
    return b;
}

std::string error(std::string_view message)
{
    return "secrun: error: doppler: " + std::string(message);
}

// The certificate was refused in the handshake, once: not retried.
void one_refused_handshake(const FakeCloudProcess& cloud)
{
    BOOST_TEST(cloud.wait_for([](const boost::json::object& s) {
        return s.at("tls_handshake_failures").to_number<int>() >= 1;
    }));
    BOOST_TEST(cloud.counter("tls_handshake_failures") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 0u);
}

Row bad_certificate(std::string cert, bool localhost, std::string_view reason)
{
    const std::string origin = localhost ? "{localhost}" : "{https}";
    Row row{.name = cert + " certificate" + (localhost ? " (by name)" : ""), .cert = cert};
    if (localhost)
        row.adjust = [](EnvMap& env, const Endpoints& at) {
            env.set("DOPPLER_API_HOST", at.cloud.https_localhost_url());
        };
    row.lines = {error("TLS handshake with " + origin + " failed: certificate verify failed (" +
                       std::string(reason) + ")"),
                 failed_start};
    row.requests = 0;
    row.check = one_refused_handshake;
    return row;
}

std::vector<Row> table()
{
    const std::string server_error =
        R"("action": "status", "status": 500, "body": {"messages": ["Internal error"], "success": false})";
    const std::string unavailable =
        R"("action": "status", "status": 503, "body": {"messages": ["Service Unavailable"], "success": false})";
    const std::string throttled =
        R"("action": "status", "status": 429, "body": {"messages": ["Too many requests"], "success": false})";
    const std::string throttled_1s =
        R"("action": "status", "status": 429, "headers": {"Retry-After": "1"},
           "body": {"messages": ["Too many requests"], "success": false})";
    return {
        {.name = "refused connection",
         .adjust =
             [](EnvMap& env, const Endpoints& at) {
                 env.set("DOPPLER_API_HOST", "https://" + at.refused);
             },
         .lines = {retrying(2, "...", "https://{refused}"), retrying(3, "...", "https://{refused}"),
                   error("connect to https://{refused} failed: Connection refused (after 3 "
                         "attempts)"),
                   failed_start}},
        {.name = "reset before the answer, once",
         .faults = {on_download(R"("action": "reset")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "reset mid-response, once",
         .faults = {on_download(R"("action": "reset_mid")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "reset mid-response, every time",
         .faults = {on_download(R"("action": "reset_mid")", -1)},
         .lines = {error(
                       "receive from {https} failed: the connection was reset in the middle of the "
                       "response (after 3 attempts)"),
                   failed_start},
         .requests = 3},
        {.name = "stall",
         .faults = {on_download(R"("action": "stall")", -1)},
         .timeout = "2s",
         .lines = {error("receive from {https} did not finish before the overall deadline "
                         "(--timeout)"),
                   failed_start},
         .requests = 1},
        {.name = "5xx burst shorter than --retries",
         .faults = {on_download(unavailable), on_download(server_error)},
         .runs = true,
         .lines = {retrying(2, "..."), retrying(3, "...")},
         .requests = 3},
        {.name = "5xx burst longer than --retries",
         .faults = {on_download(server_error, -1)},
         .lines = {error("Doppler is unavailable for the service token's config (HTTP 500: "
                         "Internal error)"),
                   failed_start},
         .requests = 3},
        {.name = "429 with Retry-After, then success",
         .faults = {on_download(throttled_1s)},
         .runs = true,
         .lines = {retrying(2, "1 s: HTTP 429")},
         .requests = 2},
        {.name = "429 without Retry-After, twice, then success",
         .faults = {on_download(throttled, 2)},
         .runs = true,
         .lines = {retrying(2, "..."), retrying(3, "...")},
         .requests = 3},
        {.name = "429 without Retry-After, every time",
         .faults = {on_download(throttled, -1)},
         .lines = {error("Doppler is throttling requests for the service token's config (HTTP "
                         "429: Too many requests)"),
                   failed_start},
         .requests = 3},
        {.name = "invalid JSON",
         .faults = {on_download(R"("action": "invalid_json")", -1)},
         .lines = {error("Doppler returned invalid JSON for the service token's config "
                         "(incomplete JSON)"),
                   failed_start},
         .requests = 1},
        {.name = "truncated body, once",
         .faults = {on_download(R"("action": "truncate")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "truncated body, every time",
         .faults = {on_download(R"("action": "truncate")", -1)},
         .lines = {error("receive from {https} failed: the server closed the connection in the "
                         "middle of the response (after 3 attempts)"),
                   failed_start},
         .requests = 3},
        {.name = "oversized body",
         .faults = {on_download(R"("action": "oversize", "size": 1048577)", -1)},
         .lines = {error("response from {https} is larger than 1 MiB"), failed_start},
         .requests = 1},
        bad_certificate("wrong-host", false, "IP address mismatch"),
        bad_certificate("wrong-host", true, "hostname mismatch"),
        bad_certificate("expired", false, "certificate has expired"),
        bad_certificate("self-signed", false, "self-signed certificate"),
        // RFC 6761: .invalid never resolves. Here glibc's resolver answers
        // at once (`getent hosts x.invalid`: NXDOMAIN in ~50 ms), but a
        // machine whose nameserver does not answer would wait 5 s x 2
        // attempts per query: RES_OPTIONS (read by glibc) bounds that.
        {.name = "DNS failure",
         .adjust =
             [](EnvMap& env, const Endpoints&) {
                 env.set("DOPPLER_API_HOST", "https://secrun-fault-matrix.invalid");
                 env.set("RES_OPTIONS", "timeout:1 attempts:1");
             },
         .lines = {error("resolving https://secrun-fault-matrix.invalid failed: ..."),
                   failed_start}},
        // Doppler answers a revoked or expired token with its own 401.
        {.name = "expired token",
         .adjust = [](EnvMap& env,
                      const Endpoints&) { env.set("DOPPLER_TOKEN", doppler::unknown_token); },
         .lines = {error("Doppler rejected DOPPLER_TOKEN for the service token's config (HTTP "
                         "401: Invalid Auth token)"),
                   failed_start},
         .requests = 1,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.counter("vendor.doppler.auth_failures") == 1u);
             }},
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(fault_matrix_e2e)

BOOST_AUTO_TEST_CASE(doppler)
{
    run_matrix(doppler_backend(), table());
}

BOOST_AUTO_TEST_SUITE_END()
