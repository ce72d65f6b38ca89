// The fault matrix for Azure Key Vault (fault_matrix.hpp): one secret, read
// with a service principal's token from the Entra ID token endpoint (both
// on the fake); the credential endpoint rows break that token endpoint, or
// use the App Service managed identity endpoint instead.
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

// The value and the credentials hold "s3cr3t" or "Tok3n"; the fake issues
// access tokens "fake-aad-token-N".
const std::string value = "ch-host-s3cr3t-Kv3.internal";
const std::string client_secret = "azure-client-s3cr3t-Az9";
const std::string identity_header = "app-service-header-Tok3n-Hd2";
const std::string read_path = "/secrets/CH-HOST";
const std::string token_path = "/tenant-1/oauth2/v2.0/token";
const std::string app_service_path = "/msi/token";
const std::string failed_start =
    "secrun: error: not starting '{print_env}': 1 of 1 variables failed";

Backend azure_backend()
{
    Backend b;
    b.name = "azure_keyvault";
    b.scenario = [](const std::vector<std::string>& faults) {
        const json::object azure{
            {"tenant", "tenant-1"},
            {"principals",
             {{"client-1", {{"secret", client_secret}}}, {"mi-app", {{"managed_identity", true}}}}},
            {"identity_header", identity_header},
            {"secrets", {{"CH-HOST", value}}}};
        json::array rules;
        for (const auto& fault : faults)
            rules.push_back(json::parse(fault));
        return json::serialize(json::object{{"faults", rules}, {"vendors", {{"azure", azure}}}});
    };
    b.configure = [](EnvMap& env, const FakeCloudProcess& cloud) {
        env.set("SECRETS_BACKEND", "azure_keyvault");
        env.set("AZURE_KEYVAULT_URL", cloud.https_url() + "/");
        env.set("AZURE_AUTHORITY_HOST", cloud.https_url());
        env.set("AZURE_TENANT_ID", "tenant-1");
        env.set("AZURE_CLIENT_ID", "client-1");
        env.set("AZURE_CLIENT_SECRET", client_secret);
        env.set("SSL_CERT_FILE", cloud.ca_file().string());
    };
    b.manifest = "CH_HOST\n";
    b.method = "GET";
    b.path = read_path;
    b.values = {{"CH_HOST", value}};
    b.secrets = {value, client_secret, identity_header, "fake-aad-token", "s3cr3t", "Tok3n"};
    return b;
}

std::string on_read(std::string_view options, int count = 1)
{
    return rule("GET", read_path, options, count);
}

std::string on_token(std::string_view options, int count = 1)
{
    return rule("POST", token_path, options, count);
}

std::string error(std::string_view message, std::string_view vault = "{https}")
{
    return util::str_cat("secrun: error: CH_HOST: azure_keyvault://CH_HOST: secret 'CH-HOST' in ",
                         vault, ": ", message);
}

// A failure to get a token with the service principal's secret.
std::string credential_error(std::string_view message)
{
    return util::str_cat("secrun: error: azure_keyvault (needed by CH_HOST): Azure environment "
                         "credential (client secret): ",
                         message);
}

std::string retrying(int attempt, std::string_view reason, std::string_view origin = "{https}")
{
    return util::str_cat("secrun: info: retrying GET ", origin, read_path, " (attempt ",
                         std::to_string(attempt), " of 3) in ", reason);
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
    row.adjust = [localhost](EnvMap& env, const Endpoints& at) {
        // Both the vault and the token endpoint: the first request meets the certificate.
        const std::string url = localhost ? at.cloud.https_localhost_url() : at.cloud.https_url();
        env.set("AZURE_KEYVAULT_URL", url + "/");
        env.set("AZURE_AUTHORITY_HOST", url);
    };
    row.lines = {credential_error("TLS handshake with " + origin +
                                  " failed: certificate verify failed (" + std::string(reason) +
                                  ")"),
                 failed_start};
    row.requests = 0;
    row.check = one_refused_handshake;
    return row;
}

std::vector<Row> table()
{
    const std::string server_error =
        R"("action": "status", "status": 500,
           "body": {"error": {"code": "InternalServerError", "message": "An unexpected error occurred."}})";
    const std::string unavailable =
        R"("action": "status", "status": 503,
           "body": {"error": {"code": "ServiceUnavailable", "message": "The service is unavailable."}})";
    const std::string throttled =
        R"("action": "status", "status": 429,
           "body": {"error": {"code": "Throttled", "message": "Request was not processed because too many requests were received."}})";
    const std::string throttled_1s =
        R"("action": "status", "status": 429, "headers": {"Retry-After": "1"},
           "body": {"error": {"code": "Throttled", "message": "Request was not processed because too many requests were received."}})";
    return {
        {.name = "refused connection",
         .adjust =
             [](EnvMap& env, const Endpoints& at) {
                 env.set("AZURE_KEYVAULT_URL", "https://" + at.refused + "/");
             },
         .lines = {error(
                       "connect to https://{refused} failed: Connection refused (after 3 attempts)",
                       "https://{refused}"),
                   failed_start}},
        // The read reuses the token request's kept-alive connection: a reset
        // before any byte of the answer makes it stale, and secrun reopens
        // it without counting an attempt (so no "retrying" line).
        {.name = "reset before the answer, once",
         .faults = {on_read(R"("action": "reset")")},
         .runs = true,
         .requests = 2,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.counter("tls_handshakes") == 2u);
             }},
        {.name = "reset mid-response, once",
         .faults = {on_read(R"("action": "reset_mid")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "reset mid-response, every time",
         .faults = {on_read(R"("action": "reset_mid")", -1)},
         .lines = {error(
                       "receive from {https} failed: the connection was reset in the middle of the "
                       "response (after 3 attempts)"),
                   failed_start},
         .requests = 3},
        {.name = "stall",
         .faults = {on_read(R"("action": "stall")", -1)},
         .timeout = "2s",
         .lines = {error("receive from {https} did not finish before the overall deadline "
                         "(--timeout)"),
                   failed_start},
         .requests = 1},
        {.name = "5xx burst shorter than --retries",
         .faults = {on_read(unavailable), on_read(server_error)},
         .runs = true,
         .lines = {retrying(2, "..."), retrying(3, "...")},
         .requests = 3},
        {.name = "5xx burst longer than --retries",
         .faults = {on_read(server_error, -1)},
         .lines = {error("Key Vault answered HTTP 500 (InternalServerError: An unexpected error "
                         "occurred.)"),
                   failed_start},
         .requests = 3},
        {.name = "429 with Retry-After, then success",
         .faults = {on_read(throttled_1s)},
         .runs = true,
         .lines = {retrying(2, "1 s: HTTP 429")},
         .requests = 2},
        {.name = "429 without Retry-After, twice, then success",
         .faults = {on_read(throttled, 2)},
         .runs = true,
         .lines = {retrying(2, "..."), retrying(3, "...")},
         .requests = 3},
        {.name = "invalid JSON",
         .faults = {on_read(R"("action": "invalid_json")", -1)},
         .lines = {error("the answer is not JSON"), failed_start},
         .requests = 1},
        {.name = "truncated body, once",
         .faults = {on_read(R"("action": "truncate")")},
         .runs = true,
         .lines = {retrying(2, "...")},
         .requests = 2},
        {.name = "truncated body, every time",
         .faults = {on_read(R"("action": "truncate")", -1)},
         .lines = {error("receive from {https} failed: the server closed the connection in the "
                         "middle of the response (after 3 attempts)"),
                   failed_start},
         .requests = 3},
        {.name = "oversized body",
         .faults = {on_read(R"("action": "oversize", "size": 1048577)", -1)},
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
                 env.set("AZURE_KEYVAULT_URL", "https://secrun-fault-matrix.invalid/");
                 env.set("RES_OPTIONS", "timeout:1 attempts:1");
             },
         .lines = {error("resolving https://secrun-fault-matrix.invalid failed: ...",
                         "https://secrun-fault-matrix.invalid"),
                   failed_start}},
        {.name = "token endpoint refusing connections",
         .adjust =
             [](EnvMap& env, const Endpoints& at) {
                 env.set("AZURE_AUTHORITY_HOST", "https://" + at.refused);
             },
         .lines = {credential_error(
                       "connect to https://{refused} failed: Connection refused (after 3 "
                       "attempts)"),
                   failed_start},
         .requests = 0},
        {.name = "token endpoint answering 503 once",
         .faults = {on_token(unavailable)},
         .runs = true,
         .requests = 1,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.requests("POST", token_path) == 2u);
             }},
        {.name = "token endpoint answering 503 every time",
         .faults = {on_token(unavailable, -1)},
         .lines = {credential_error("127.0.0.1 answered HTTP 503 to the token request: "
                                    "ServiceUnavailable: The service is unavailable."),
                   failed_start},
         .requests = 0,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.requests("POST", token_path) == 3u);
             }},
        {.name = "App Service identity endpoint answering 500 every time",
         .faults = {rule("GET", app_service_path,
                         R"("action": "status", "status": 500, "body": "Internal Server Error")",
                         -1)},
         .adjust =
             [](EnvMap& env, const Endpoints& at) {
                 env.erase("AZURE_TENANT_ID");
                 env.erase("AZURE_CLIENT_SECRET");
                 env.set("AZURE_CLIENT_ID", "mi-app");
                 env.set("IDENTITY_ENDPOINT", at.cloud.http_url() + app_service_path);
                 env.set("IDENTITY_HEADER", identity_header);
             },
         .lines = {"secrun: error: azure_keyvault (needed by CH_HOST): Azure managed identity "
                   "(App Service): {http} answered HTTP 500",
                   failed_start},
         .requests = 0,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.requests("GET", app_service_path) == 3u);
             }},
        {.name = "instance metadata (IMDS) refusing connections",
         .adjust =
             [](EnvMap& env, const Endpoints& at) {
                 env.erase("AZURE_TENANT_ID");
                 env.erase("AZURE_CLIENT_ID");
                 env.erase("AZURE_CLIENT_SECRET");
                 env.set("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://" + at.refused);
             },
         // IMDS gets its own attempts (6, as the Azure SDKs), not --retries:
         // the count is left open, as --timeout may end them first.
         .lines = {"secrun: error: azure_keyvault (needed by CH_HOST): Azure managed identity "
                   "(IMDS): connect to http://{refused} failed: Connection refused (after ...",
                   failed_start},
         .requests = 0},
        // What Key Vault answers a token that has expired (as reported in
        // Azure/azure-sdk-for-python#27266): 401 with a challenge for the
        // same tenant, so no new token can help. Not retried.
        {.name = "expired token",
         .faults = {on_read(
             R"("action": "status", "status": 401,
                "headers": {"WWW-Authenticate": "Bearer authorization=\"https://login.windows.net/tenant-1\", resource=\"https://vault.azure.net\""},
                "body": {"error": {"code": "Unauthorized", "message": "[TokenExpired] Error validating token: 'S2S12086'."}})",
             -1)},
         .lines = {error("the vault rejected the token (Unauthorized: [TokenExpired] Error "
                         "validating token: 'S2S12086'.)"),
                   failed_start},
         .requests = 1,
         .check =
             [](const FakeCloudProcess& cloud) {
                 BOOST_TEST(cloud.requests("POST", token_path) == 1u);
             }},
    };
}

} // namespace

BOOST_AUTO_TEST_SUITE(fault_matrix_e2e)

BOOST_AUTO_TEST_CASE(azure_keyvault)
{
    run_matrix(azure_backend(), table());
}

BOOST_AUTO_TEST_SUITE_END()
