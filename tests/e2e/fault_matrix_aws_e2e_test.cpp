// The fault matrix for AWS Secrets Manager (fault_matrix.hpp): one secret,
// fetched with GetSecretValue (POST /, SigV4 verified by the fake) with
// temporary keys from the environment; the credential endpoint rows use the
// ECS container credentials endpoint on the fake's plain-HTTP port instead.
#include "e2e/fault_matrix.hpp"

#include "util/strings.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace secrun;
using namespace secrun::e2e;
using namespace secrun::e2e::faults;
using testing::FakeCloudProcess;
namespace json = boost::json;

namespace
{

// Every value, secret key and session token holds "s3cr3t" or "Tok3n".
const std::string value = "ch-host-s3cr3t-Aw5.internal";
const std::string key_id = "ASIAFAULTENV";
const std::string secret_key = "aws-env-s3cr3t-key-Rr8";
const std::string session_token = "aws-env-session-Tok3n-Gg4/+=";
const std::string ecs_path = "/v2/credentials/task";
const std::string ecs_secret = "aws-ecs-s3cr3t-key-Mm1";
const std::string ecs_token = "aws-ecs-session-Tok3n-Tt6";
const std::string failed_start =
    "secrun: error: not starting '{print_env}': 1 of 1 variables failed";

// The ECS endpoint hands out credentials valid for `duration` seconds
// (negative: already expired when they are handed out).
std::string scenario_with(const std::vector<std::string>& faults, int duration)
{
    const json::object issue{{"access_key", "ASIAFAULTECS"},
                             {"secret", ecs_secret},
                             {"session_token", ecs_token},
                             {"duration_seconds", duration}};
    const json::object aws{
        {"credentials", {{key_id, {{"secret", secret_key}, {"session_token", session_token}}}}},
        {"secrets", {{"CH_HOST", {{"string", value}}}}},
        {"ecs", {{"path", ecs_path}, {"issue", issue}}},
        {"imds", {{"role", "fault-role"}, {"issue", issue}}}};
    json::array rules;
    for (const auto& fault : faults)
        rules.push_back(json::parse(fault));
    return json::serialize(json::object{{"faults", rules}, {"vendors", {{"aws", aws}}}});
}

Backend aws_backend()
{
    Backend b;
    b.name = "aws_secrets";
    b.scenario = [](const std::vector<std::string>& faults) { return scenario_with(faults, 3600); };
    b.configure = [](EnvMap& env, const FakeCloudProcess& cloud) {
        env.set("AWS_REGION", "us-east-1");
        env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", cloud.https_url());
        env.set("AWS_EC2_METADATA_DISABLED", "true");
        env.set("AWS_ACCESS_KEY_ID", key_id);
        env.set("AWS_SECRET_ACCESS_KEY", secret_key);
        env.set("AWS_SESSION_TOKEN", session_token);
        env.set("SSL_CERT_FILE", cloud.ca_file().string());
    };
    b.manifest = "CH_HOST = aws_secrets://CH_HOST\n";
    b.method = "POST";
    b.path = "/";
    b.values = {{"CH_HOST", value}};
    b.secrets = {value, secret_key, session_token, ecs_secret, ecs_token, "s3cr3t", "Tok3n"};
    return b;
}

std::string on_get(std::string_view options, int count = 1)
{
    return rule("POST", "/", options, count);
}

std::string on_ecs(std::string_view options, int count = 1)
{
    return rule("GET", ecs_path, options, count);
}

std::string error(std::string_view message)
{
    return "secrun: error: CH_HOST: aws_secrets://CH_HOST: " + std::string(message);
}

// A failure to get credentials from the ECS endpoint.
std::string ecs_error(std::string_view message)
{
    return "secrun: error: aws_secrets (needed by CH_HOST): AWS credentials: ECS: " +
           std::string(message);
}

std::string retrying(int attempt, std::string_view reason, std::string_view url = "{https}/",
                     std::string_view method = "POST")
{
    return util::str_cat("secrun: info: retrying ", method, " ", url, " (attempt ",
                         std::to_string(attempt), " of 3) in ", reason);
}

// Credentials from the ECS endpoint instead of the environment.
void use_ecs(EnvMap& env, const std::string& url)
{
    env.erase("AWS_ACCESS_KEY_ID");
    env.erase("AWS_SECRET_ACCESS_KEY");
    env.erase("AWS_SESSION_TOKEN");
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
}

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
            env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", at.cloud.https_localhost_url());
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
    const std::string internal_error =
        R"("action": "status", "status": 500, "headers": {"Content-Type": "application/x-amz-json-1.1"},
           "body": "{\"__type\":\"InternalServiceError\",\"message\":\"An error occurred on the server side.\"}")";
    const std::string unavailable =
        R"("action": "status", "status": 503, "body": "<html><body>Service Unavailable</body></html>")";
    const std::string throttled =
        R"("action": "status", "status": 429, "body": "Too Many Requests")";
    const std::string throttled_1s =
        R"("action": "status", "status": 429, "headers": {"Retry-After": "1"}, "body": "Too Many Requests")";
    return {
        {.name = "refused connection",
         .adjust =
             [](EnvMap& env, const Endpoints& at) {
                 env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://" + at.refused);
             },
         .lines =
             {retrying(2, "...", "https://{refused}/"),
              error("connect to https://{refused} failed: Connection refused (after 3 attempts)"),
              failed_start}},
        {.name = "reset before the answer, once",
         .faults = {on_get(R"("action": "reset")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "reset mid-response, once",
         .faults = {on_get(R"("action": "reset_mid")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "reset mid-response, every time",
         .faults = {on_get(R"("action": "reset_mid")", -1)},
         .lines = {error(
                       "receive from {https} failed: the connection was reset in the middle of the "
                       "response (after 3 attempts)"),
                   failed_start},
         .requests = 3},
        {.name = "stall",
         .faults = {on_get(R"("action": "stall")", -1)},
         .timeout = "2s",
         .lines = {error("receive from {https} did not finish before the overall "
                         "deadline (--timeout)"),
                   failed_start},
         .requests = 1},
        {.name = "5xx burst shorter than --retries",
         .faults = {on_get(unavailable), on_get(internal_error)},
         .runs = true,
         .lines = {retrying(2, "..."), retrying(3, "...")},
         .requests = 3},
        {.name = "5xx burst longer than --retries",
         .faults = {on_get(internal_error, -1)},
         .lines = {error("secret 'CH_HOST': Secrets Manager failed (InternalServiceError): An "
                         "error occurred on the "
                         "server side."),
                   failed_start},
         .requests = 3},
        {.name = "429 with Retry-After, then success",
         .faults = {on_get(throttled_1s)},
         .runs = true,
         .lines = {retrying(2, "1 s: HTTP 429")},
         .requests = 2},
        {.name = "429 without Retry-After, twice, then success",
         .faults = {on_get(throttled, 2)},
         .runs = true,
         .lines = {retrying(2, "..."), retrying(3, "...")},
         .requests = 3},
        {.name = "invalid JSON",
         .faults = {on_get(R"("action": "invalid_json")", -1)},
         .lines = {error("secret 'CH_HOST': GetSecretValue answered something that is not a JSON "
                         "object"),
                   failed_start},
         .requests = 1},
        {.name = "truncated body, once",
         .faults = {on_get(R"("action": "truncate")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "truncated body, every time",
         .faults = {on_get(R"("action": "truncate")", -1)},
         .lines = {error("receive from {https} failed: the server closed the connection in the "
                         "middle of the response (after 3 attempts)"),
                   failed_start},
         .requests = 3},
        {.name = "oversized body",
         .faults = {on_get(R"("action": "oversize", "size": 1048577)", -1)},
         .lines = {error("response from {https} is larger than 1 MiB"), failed_start},
         .requests = 1},
        bad_certificate("wrong-host", false, "IP address mismatch"),
        bad_certificate("wrong-host", true, "hostname mismatch"),
        bad_certificate("expired", false, "certificate has expired"),
        bad_certificate("self-signed", false, "self-signed certificate"),
        // .invalid never resolves (RFC 6761); RES_OPTIONS bounds glibc's
        // wait on a nameserver that does not answer (see the Doppler table).
        {.name = "DNS failure",
         .adjust =
             [](EnvMap& env, const Endpoints&) {
                 env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://secrun-fault-matrix.invalid");
                 env.set("RES_OPTIONS", "timeout:1 attempts:1");
             },
         .lines = {error("resolving https://secrun-fault-matrix.invalid failed: ..."),
                   failed_start}},
        {.name = "credential endpoint refusing connections",
         .adjust = [](EnvMap& env,
                      const Endpoints& at) { use_ecs(env, "http://" + at.refused + ecs_path); },
         .lines = {retrying(2, "...", "http://{refused}" + ecs_path, "GET"),
                   ecs_error("connect to http://{refused} failed: Connection refused (after 3 "
                             "attempts)"),
                   failed_start},
         .requests = 0},
        {.name = "credential endpoint answering 500 once",
         .faults = {on_ecs(
             R"("action": "status", "status": 500, "body": "Internal Server Error")")},
         .adjust = [](EnvMap& env,
                      const Endpoints& at) { use_ecs(env, at.cloud.http_url() + ecs_path); },
         .runs = true,
         .lines = {retrying(2, "...: HTTP 500", "{http}" + ecs_path, "GET")},
         .requests = 1,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.requests("GET", ecs_path) == 2u);
                 BOOST_TEST(cloud.counter("vendor.aws.ecs.credentials") == 1u);
             }},
        {.name = "credential endpoint answering 500 every time",
         .faults = {on_ecs(R"("action": "status", "status": 500, "body": "Internal Server Error")",
                           -1)},
         .adjust = [](EnvMap& env,
                      const Endpoints& at) { use_ecs(env, at.cloud.http_url() + ecs_path); },
         .lines = {ecs_error("GET {http}" + ecs_path + " returned HTTP 500: Internal Server Error"),
                   failed_start},
         .requests = 0,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.requests("GET", ecs_path) == 3u);
             }},
        {.name = "instance metadata (IMDSv2) answering 500 every time",
         .faults = {rule("PUT", "/latest/api/token",
                         R"("action": "status", "status": 500, "body": "Internal Server Error")",
                         -1)},
         .adjust =
             [](EnvMap& env, const Endpoints& at) {
                 env.erase("AWS_ACCESS_KEY_ID");
                 env.erase("AWS_SECRET_ACCESS_KEY");
                 env.erase("AWS_SESSION_TOKEN");
                 env.erase("AWS_EC2_METADATA_DISABLED");
                 env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", at.cloud.http_url());
             },
         .lines = {"secrun: error: aws_secrets (needed by CH_HOST): no AWS credentials: "
                   "environment: AWS_ACCESS_KEY_ID not set; ...; EC2 IMDS: PUT "
                   "{http}/latest/api/token returned HTTP 500",
                   failed_start},
         .requests = 0,
         .check =
             [](const FakeCloudProcess& cloud) {
                 // The token request is also the probe for an instance at
                 // all: one attempt (src/auth/aws_metadata.cpp).
                 BOOST_TEST(cloud.requests("PUT", "/latest/api/token") == 1u);
             }},
        // Session credentials that expired: the ECS endpoint hands out
        // credentials whose Expiration has passed, and Secrets Manager (the
        // fake, as the service) answers ExpiredTokenException.
        {.name = "expired token",
         .scenario =
             [](const std::vector<std::string>& faults) { return scenario_with(faults, -300); },
         .adjust = [](EnvMap& env,
                      const Endpoints& at) { use_ecs(env, at.cloud.http_url() + ecs_path); },
         .lines = {error("secret 'CH_HOST': the credentials have expired (ExpiredTokenException): "
                         "The security token included in the request is expired"),
                   failed_start},
         .requests = 1,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.counter("vendor.aws.error.ExpiredTokenException") == 1u);
             }},
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(fault_matrix_e2e)

BOOST_AUTO_TEST_CASE(aws_secrets)
{
    run_matrix(aws_backend(), table());
}

BOOST_AUTO_TEST_SUITE_END()
