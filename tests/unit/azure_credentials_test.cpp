#include "auth/azure_credentials.hpp"

#include "azure_test_support.hpp"
#include "fakes/fake_https_client.hpp"
#include "fakes/run_awaitable.hpp"
#include "util/encoding.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <fstream>
#include <sstream>

using namespace secrun;
using namespace std::chrono_literals;
using testing::FakeHttpsClient;
namespace json = boost::json;

namespace {

const std::chrono::system_clock::time_point t0{std::chrono::seconds(1700000000)};
const std::string vault_scope = "https://vault.azure.net/.default";
const std::string entra = "https://login.microsoftonline.com:443";
const std::string imds = "http://169.254.169.254:80/metadata/identity/oauth2/token";
const std::string entra_token = R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-entra"})";
const std::string imds_token =
    R"({"access_token":"tok-imds","refresh_token":"","expires_in":"3599","expires_on":"1700003599",)"
    R"("not_before":"1699999999","resource":"https://vault.azure.net","token_type":"Bearer"})";

// Each case starts from an empty environment (no developer settings), with
// a PATH where no `az` can be found.
struct Chain {
    FakeHttpsClient http;
    EnvMap env{EnvMap::Map{{"PATH", "/nonexistent-secrun-test"}}};
    auth::AzureCredentialOptions options;
    auth::AzureCredentialChain chain{env, http, [] { return t0; }, options};

    Result<auth::AzureToken> get(std::string tenant = {}, std::string authority = {},
                                 std::string scope = vault_scope)
    {
        return testing::run(chain.get_token({std::move(scope), std::move(tenant), std::move(authority)}));
    }

    // IMDS that is present: the probe gets a 400 (no Metadata header), the
    // token request `body` with `status`.
    void imds_answers(unsigned status, std::string body)
    {
        http.on("GET", imds, [status, body](const https::Request& r) {
            https::Response response;
            const bool probe = r.url.target.find('?') == std::string::npos;
            response.status = probe ? 400 : status;
            response.body = probe ? R"({"error":"invalid_request","error_description":"Required metadata header not specified"})"
                                  : body;
            return Result<https::Response>(std::move(response));
        });
    }

    void no_imds()
    {
        http.on("GET", imds, [](const https::Request&) {
            return Result<https::Response>(Error(Errc::timeout, "connect to 169.254.169.254:80 timed out"));
        });
    }

    void service_principal(std::string secret = "s3cr&t=+/ x")
    {
        env.set("AZURE_TENANT_ID", "tenant-1");
        env.set("AZURE_CLIENT_ID", "client-1");
        env.set("AZURE_CLIENT_SECRET", std::move(secret));
    }
};

std::optional<std::string> header(const https::Request& r, std::string_view name)
{
    for (const auto& [key, value] : r.headers)
        if (util::iequals(key, name))
            return value;
    return std::nullopt;
}

// "a=1&b=2" -> {{"a","1"},{"b","2"}}, values decoded, order kept.
std::vector<std::pair<std::string, std::string>> form_fields(std::string_view body)
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto field : util::split(body, '&')) {
        const auto eq = field.find('=');
        out.emplace_back(std::string(field.substr(0, eq)),
                         util::percent_decode(field.substr(eq + 1)).value_or("?"));
    }
    return out;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(azure_credentials)

// --- environment: client secret ---

BOOST_FIXTURE_TEST_CASE(client_secret_posts_the_form_to_the_tenant_endpoint, Chain)
{
    service_principal();
    http.on("POST", entra + "/tenant-1/oauth2/v2.0/token", 200, entra_token);
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST(token->access_token.reveal() == "tok-entra");
    BOOST_TEST((token->expires_on == t0 + 3599s));
    BOOST_TEST(token->tenant == "tenant-1");
    BOOST_TEST(chain.source() == "Azure environment credential (client secret)");
    BOOST_TEST(chain.credential_variables() == std::vector<std::string>{"AZURE_CLIENT_SECRET"});

    BOOST_TEST_REQUIRE(http.requests.size() == 1u);
    const auto& r = http.requests[0];
    BOOST_TEST(r.url.target == "/tenant-1/oauth2/v2.0/token");
    BOOST_TEST(r.body == "client_id=client-1&scope=https%3A%2F%2Fvault.azure.net%2F.default"
                         "&client_secret=s3cr%26t%3D%2B%2F%20x&grant_type=client_credentials");
    BOOST_TEST(header(r, "Content-Type").value_or("") == "application/x-www-form-urlencoded");
    BOOST_TEST(!r.allow_http);
}

BOOST_FIXTURE_TEST_CASE(a_rejected_client_secret_stops_the_chain, Chain)
{
    service_principal();
    env.set("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token");
    imds_answers(200, imds_token);
    http.on("POST", entra, 401,
            R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]})");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::auth);
    BOOST_TEST(token.error().message ==
               "Azure environment credential (client secret): login.microsoftonline.com rejected the "
               "token request (HTTP 401): invalid_client: AADSTS7000215: Invalid client secret provided.");
    BOOST_TEST(http.requests.size() == 1u); // neither IMDS nor anything else was asked
    BOOST_TEST(token.error().message.find("s3cr") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(token_endpoint_outages_and_bad_answers_are_reported, Chain)
{
    service_principal();
    http.on("POST", entra, 503, "busy");
    auto busy = get();
    BOOST_TEST_REQUIRE(busy.has_error());
    BOOST_TEST(busy.error().code == Errc::unavailable);
    BOOST_TEST(busy.error().message == "Azure environment credential (client secret): "
                                       "login.microsoftonline.com answered HTTP 503 to the token request");

    Chain other;
    other.service_principal();
    other.http.on("POST", entra, 200, R"({"token_type":"Bearer","expires_in":3599})");
    auto empty = other.get();
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().code == Errc::bad_response);
    BOOST_TEST(empty.error().message == "Azure environment credential (client secret): "
                                        "login.microsoftonline.com answered without an access_token");

    Chain down;
    down.service_principal();
    down.http.on("POST", entra, [](const https::Request&) {
        return Result<https::Response>(Error(Errc::network, "connect to login.microsoftonline.com:443: Connection refused"));
    });
    auto unreachable = down.get();
    BOOST_TEST_REQUIRE(unreachable.has_error());
    BOOST_TEST(unreachable.error().code == Errc::network);
    BOOST_TEST(unreachable.error().message == "Azure environment credential (client secret): connect "
                                              "to login.microsoftonline.com:443: Connection refused");
}

BOOST_FIXTURE_TEST_CASE(authority_host_comes_from_the_environment_or_the_vault_cloud, Chain)
{
    service_principal();
    env.set("AZURE_AUTHORITY_HOST", "login.example.test/");
    http.on("POST", "https://login.example.test:443/tenant-1/oauth2/v2.0/token", 200, entra_token);
    BOOST_TEST(get("", "https://login.chinacloudapi.cn").has_value());

    Chain china;
    china.service_principal();
    china.http.on("POST", "https://login.chinacloudapi.cn:443/tenant-1/oauth2/v2.0/token", 200, entra_token);
    BOOST_TEST(china.get("", "https://login.chinacloudapi.cn", "https://vault.azure.cn/.default").has_value());
    BOOST_TEST(form_fields(china.http.requests.at(0).body).at(1).second == "https://vault.azure.cn/.default");

    Chain plain;
    plain.service_principal();
    plain.env.set("AZURE_AUTHORITY_HOST", "http://login.example.test");
    auto refused = plain.get();
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().message ==
               "Azure environment credential (client secret): AZURE_AUTHORITY_HOST "
               "'http://login.example.test' is not an https:// host (e.g. https://login.microsoftonline.com)");
}

BOOST_FIXTURE_TEST_CASE(a_challenge_tenant_needs_to_be_allowed, Chain)
{
    service_principal();
    auto refused = get("tenant-2");
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().code == Errc::auth);
    BOOST_TEST(refused.error().message ==
               "Azure environment credential (client secret): the vault belongs to tenant 'tenant-2' "
               "but AZURE_TENANT_ID is 'tenant-1' (add the tenant to "
               "AZURE_ADDITIONALLY_ALLOWED_TENANTS to allow it)");
    BOOST_TEST(http.requests.empty());

    env.set("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "other; tenant-2");
    http.on("POST", entra + "/tenant-2/oauth2/v2.0/token", 200, entra_token);
    auto allowed = get("tenant-2");
    BOOST_TEST_REQUIRE(allowed.has_value());
    BOOST_TEST(allowed->tenant == "tenant-2");

    env.set("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "*");
    http.on("POST", entra + "/tenant-3/oauth2/v2.0/token", 200, entra_token);
    BOOST_TEST(get("tenant-3").has_value());

    auto bad = get("a/b");
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().message == "the tenant 'a/b' is not a tenant id or domain");
}

// --- environment: client certificate ---

BOOST_FIXTURE_TEST_CASE(client_certificate_posts_a_signed_assertion, Chain)
{
    const testing::ScratchDir dir;
    const auto& cert = testing::rsa_certificate();
    const std::string path = dir.write("cert.pem", cert.cert_pem() + cert.key_pem("pw"));
    env.set("AZURE_TENANT_ID", "tenant-1");
    env.set("AZURE_CLIENT_ID", "client-1");
    env.set("AZURE_CLIENT_CERTIFICATE_PATH", path);
    env.set("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw");
    http.on("POST", entra + "/tenant-1/oauth2/v2.0/token", 200, entra_token);
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST(chain.source() == "Azure environment credential (client certificate)");
    BOOST_TEST(chain.credential_variables() ==
               (std::vector<std::string>{"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD"}));

    const auto fields = form_fields(http.requests.at(0).body);
    BOOST_TEST_REQUIRE(fields.size() == 5u);
    BOOST_TEST((fields[0] == std::pair<std::string, std::string>{"client_id", "client-1"}));
    BOOST_TEST((fields[1] == std::pair<std::string, std::string>{"scope", vault_scope}));
    BOOST_TEST((fields[2] == std::pair<std::string, std::string>{
                                 "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}));
    BOOST_TEST(fields[3].first == "client_assertion");
    BOOST_TEST((fields[4] == std::pair<std::string, std::string>{"grant_type", "client_credentials"}));

    const std::string& assertion = fields[3].second;
    BOOST_TEST(cert.verifies_rs256(assertion));
    const auto parts = testing::decode_jwt(assertion);
    BOOST_TEST(parts.header == R"({"alg":"RS256","typ":"JWT","x5t":")" + cert.thumbprint(EVP_sha1()) + R"("})");
    const auto claims = json::parse(parts.payload).as_object();
    BOOST_TEST(claims.at("aud").as_string() == "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token");
    BOOST_TEST(claims.at("iss").as_string() == "client-1");
    BOOST_TEST(claims.at("sub").as_string() == "client-1");
    BOOST_TEST(claims.at("iat").as_int64() == 1700000000);
    BOOST_TEST(claims.at("exp").as_int64() == 1700000600);
}

BOOST_FIXTURE_TEST_CASE(an_unreadable_certificate_stops_the_chain, Chain)
{
    env.set("AZURE_TENANT_ID", "tenant-1");
    env.set("AZURE_CLIENT_ID", "client-1");
    env.set("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/cert.pem");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::config);
    BOOST_TEST(token.error().message ==
               "Azure environment credential (client certificate): cannot read "
               "AZURE_CLIENT_CERTIFICATE_PATH '/nonexistent/cert.pem': No such file or directory");
}

// --- workload identity ---

BOOST_FIXTURE_TEST_CASE(workload_identity_posts_the_federated_token_and_rereads_it, Chain)
{
    const testing::ScratchDir dir;
    const std::string file = dir.write("azure-identity-token", "  eyJ.federated-1.sig\n");
    env.set("AZURE_TENANT_ID", "tenant-1");
    env.set("AZURE_CLIENT_ID", "client-1");
    env.set("AZURE_FEDERATED_TOKEN_FILE", file);
    env.set("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/");
    http.on("POST", entra + "/tenant-1/oauth2/v2.0/token", 200, entra_token);
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST(chain.source() == "Azure workload identity");
    BOOST_TEST(http.requests.at(0).body ==
               "client_id=client-1&scope=https%3A%2F%2Fvault.azure.net%2F.default"
               "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
               "&client_assertion=eyJ.federated-1.sig&grant_type=client_credentials");

    // The kubelet rotates the file: the next token uses the new contents.
    dir.write("azure-identity-token", "eyJ.federated-2.sig");
    BOOST_TEST(get().has_value());
    BOOST_TEST(form_fields(http.requests.at(1).body).at(3).second == "eyJ.federated-2.sig");

    dir.write("azure-identity-token", " \n");
    auto empty = get();
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().message ==
               "Azure workload identity: AZURE_FEDERATED_TOKEN_FILE '" + file + "' is empty");
}

// --- managed identity ---

BOOST_FIXTURE_TEST_CASE(app_service_sends_the_identity_header, Chain)
{
    env.set("IDENTITY_ENDPOINT", "http://127.0.0.1:41234/msi/token");
    env.set("IDENTITY_HEADER", "hdr-value");
    env.set("AZURE_CLIENT_ID", "mi-client");
    http.on("GET", "http://127.0.0.1:41234/msi/token?", 200,
            R"({"access_token":"tok-as","expires_on":"1700003600","resource":"https://vault.azure.net","token_type":"Bearer","client_id":"mi-client"})");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST(token->access_token.reveal() == "tok-as");
    BOOST_TEST((token->expires_on == t0 + 3600s));
    BOOST_TEST(chain.source() == "Azure managed identity (App Service)");
    BOOST_TEST_REQUIRE(http.requests.size() == 1u);
    const auto& r = http.requests[0];
    BOOST_TEST(r.url.target ==
               "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net&client_id=mi-client");
    BOOST_TEST(header(r, "X-IDENTITY-HEADER").value_or("") == "hdr-value");
    BOOST_TEST(r.allow_http);
}

BOOST_FIXTURE_TEST_CASE(app_service_failures_stop_the_chain, Chain)
{
    env.set("IDENTITY_ENDPOINT", "http://127.0.0.1:41234/msi/token");
    env.set("IDENTITY_HEADER", "hdr-value");
    http.on("GET", "http://127.0.0.1:41234/", 400,
            R"({"statusCode":400,"message":"No managed identity found for the specified client id"})");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::auth);
    BOOST_TEST(token.error().message ==
               "Azure managed identity (App Service): http://127.0.0.1:41234 answered HTTP 400: No "
               "managed identity found for the specified client id");
}

BOOST_FIXTURE_TEST_CASE(imds_is_probed_then_asked_with_the_metadata_header, Chain)
{
    env.set("AZURE_CLIENT_ID", "mi-client");
    imds_answers(200, imds_token);
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST(token->access_token.reveal() == "tok-imds");
    BOOST_TEST((token->expires_on == t0 + 3599s));
    BOOST_TEST(chain.source() == "Azure managed identity (IMDS)");
    BOOST_TEST(chain.credential_variables().empty());

    BOOST_TEST_REQUIRE(http.requests.size() == 2u);
    const auto& probe = http.requests[0];
    BOOST_TEST(probe.url.target == "/metadata/identity/oauth2/token");
    BOOST_TEST(!header(probe, "Metadata").has_value());
    BOOST_TEST(probe.timeout.count() == 1000);
    BOOST_TEST(probe.max_attempts == 1);
    BOOST_TEST(probe.allow_http);

    const auto& r = http.requests[1];
    BOOST_TEST(r.url.target == "/metadata/identity/oauth2/token?api-version=2018-02-01"
                               "&resource=https%3A%2F%2Fvault.azure.net&client_id=mi-client");
    BOOST_TEST(header(r, "Metadata").value_or("") == "true");
    BOOST_TEST(r.allow_http);
    BOOST_TEST(r.max_attempts == 6);
    BOOST_TEST_REQUIRE(static_cast<bool>(r.retry_if));
    https::Response probe_status;
    for (unsigned status : {404u, 410u}) {
        probe_status.status = status;
        BOOST_TEST(r.retry_if(probe_status));
    }
    for (unsigned status : {400u, 403u}) {
        probe_status.status = status;
        BOOST_TEST(!r.retry_if(probe_status));
    }
}

BOOST_FIXTURE_TEST_CASE(imds_address_can_be_overridden_without_a_probe, Chain)
{
    env.set("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:8099/");
    http.on("GET", "http://127.0.0.1:8099/metadata/identity/oauth2/token?", 200, imds_token);
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST_REQUIRE(http.requests.size() == 1u);
    BOOST_TEST(http.requests[0].url.target ==
               "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net");
}

BOOST_FIXTURE_TEST_CASE(imds_without_an_identity_lets_the_chain_go_on, Chain)
{
    imds_answers(400, R"({"error":"invalid_request","error_description":"Identity not found"})");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().message ==
               "no Azure credential: environment: AZURE_TENANT_ID/AZURE_CLIENT_ID not set; workload "
               "identity: AZURE_FEDERATED_TOKEN_FILE not set; managed identity: IMDS at "
               "http://169.254.169.254 has no identity to use (HTTP 400: invalid_request: Identity not "
               "found); Azure CLI: 'az' not found in PATH");
}

BOOST_FIXTURE_TEST_CASE(imds_errors_after_retries_stop_the_chain, Chain)
{
    imds_answers(500, R"({"error":"unknown","error_description":"IMDS is sad"})");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::unavailable);
    BOOST_TEST(token.error().message ==
               "Azure managed identity (IMDS): http://169.254.169.254 answered HTTP 500: unknown: IMDS is sad");
}

BOOST_FIXTURE_TEST_CASE(docker_desktop_imds_counts_as_absent, Chain)
{
    http.on("GET", imds, 403, "connecting to 169.254.169.254:80: connecting to 169.254.169.254:80: dial tcp 169.254.169.254:80: connectex: A socket operation was attempted to an unreachable network.");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().message.find("managed identity: IMDS at http://169.254.169.254 is "
                                          "unreachable (HTTP 403); Azure CLI") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(unsupported_managed_identity_kinds_are_named, Chain)
{
    env.set("IDENTITY_ENDPOINT", "http://localhost:40342/metadata/identity/oauth2/token");
    env.set("IMDS_ENDPOINT", "http://localhost:40342");
    env.set("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential");
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().message ==
               "no Azure credential: managed identity: Azure Arc managed identity is not supported");
}

// --- the chain ---

BOOST_FIXTURE_TEST_CASE(lists_every_source_tried_when_none_is_available, Chain)
{
    no_imds();
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::auth);
    BOOST_TEST(token.error().message ==
               "no Azure credential: environment: AZURE_TENANT_ID/AZURE_CLIENT_ID not set; workload "
               "identity: AZURE_FEDERATED_TOKEN_FILE not set; managed identity: no IMDS at "
               "http://169.254.169.254 (no answer within 1000 ms); Azure CLI: 'az' not found in PATH");
}

BOOST_FIXTURE_TEST_CASE(names_what_is_missing_for_a_partial_configuration, Chain)
{
    no_imds();
    env.set("AZURE_CLIENT_ID", "client-1");
    env.set("AZURE_TENANT_ID", "tenant-1");
    http.on("GET", imds, [](const https::Request&) {
        return Result<https::Response>(Error(Errc::network, "connect to 169.254.169.254:80: Network is unreachable"));
    });
    auto token = get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().message ==
               "no Azure credential: environment: neither AZURE_CLIENT_SECRET nor "
               "AZURE_CLIENT_CERTIFICATE_PATH set; workload identity: AZURE_FEDERATED_TOKEN_FILE not "
               "set; managed identity: no IMDS at http://169.254.169.254 (no answer within 1000 ms); "
               "Azure CLI: 'az' not found in PATH");
}

BOOST_FIXTURE_TEST_CASE(tries_the_sources_in_default_azure_credential_order, Chain)
{
    const testing::ScratchDir dir;
    env.set("AZURE_FEDERATED_TOKEN_FILE", dir.write("token", "eyJ.fed.sig"));
    env.set("AZURE_TENANT_ID", "tenant-1");
    env.set("AZURE_CLIENT_ID", "client-1");
    imds_answers(200, imds_token);
    http.on("POST", entra, 200, entra_token);
    // Workload identity comes before managed identity.
    BOOST_TEST_REQUIRE(get().has_value());
    BOOST_TEST(chain.source() == "Azure workload identity");
    BOOST_TEST(http.count("GET", imds) == 0u);

    // The environment's client secret comes before both.
    Chain all;
    all.service_principal();
    all.env.set("AZURE_FEDERATED_TOKEN_FILE", dir.path().string() + "/token");
    all.imds_answers(200, imds_token);
    all.http.on("POST", entra, 200, entra_token);
    BOOST_TEST_REQUIRE(all.get().has_value());
    BOOST_TEST(all.chain.source() == "Azure environment credential (client secret)");
    BOOST_TEST(all.http.requests.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(azure_token_credentials_narrows_the_chain, Chain)
{
    service_principal();
    imds_answers(200, imds_token);
    env.set("AZURE_TOKEN_CREDENTIALS", "ManagedIdentityCredential");
    BOOST_TEST_REQUIRE(get().has_value());
    BOOST_TEST(chain.source() == "Azure managed identity (IMDS)");

    Chain dev;
    dev.service_principal();
    dev.env.set("AZURE_TOKEN_CREDENTIALS", "dev");
    auto none = dev.get();
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().message == "no Azure credential: Azure CLI: 'az' not found in PATH");

    Chain bogus;
    bogus.env.set("AZURE_TOKEN_CREDENTIALS", "VisualStudioCodeCredential");
    auto bad = bogus.get();
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().code == Errc::config);
    BOOST_TEST(bad.error().message ==
               "AZURE_TOKEN_CREDENTIALS='VisualStudioCodeCredential' is not one of prod, dev, "
               "EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential, "
               "AzureCliCredential");
}

// --- Azure CLI (a stub `az` script on PATH) ---

struct Cli : Chain {
    testing::ScratchDir dir;

    explicit Cli(const std::string& script_body)
    {
        dir.write("az", "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n"
                        "env > \"$(dirname \"$0\")/env\"\n" + script_body,
                  std::filesystem::perms::owner_all);
        env.set("PATH", dir.path().string() + ":/usr/bin:/bin");
        env.set("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential");
    }
    [[nodiscard]] std::string args() const { return read_file(dir.path() / "args"); }
};

std::time_t local_epoch(int year, int month, int day, int hour, int minute, int second)
{
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    tm.tm_isdst = -1;
    return std::mktime(&tm);
}

BOOST_AUTO_TEST_CASE(azure_cli_reads_expires_on_in_local_time)
{
    Cli cli("cat <<'EOF'\n{\"accessToken\":\"tok-cli\",\"expiresOn\":\"2023-11-14 22:13:20.123456\","
            "\"subscription\":\"sub\",\"tenant\":\"t\",\"tokenType\":\"Bearer\"}\nEOF\n");
    auto token = cli.get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST(token->access_token.reveal() == "tok-cli");
    BOOST_TEST(std::chrono::system_clock::to_time_t(token->expires_on) ==
               local_epoch(2023, 11, 14, 22, 13, 20));
    BOOST_TEST(cli.chain.source() == "Azure CLI");
    BOOST_TEST(cli.args() == "account\nget-access-token\n--output\njson\n--resource\nhttps://vault.azure.net\n");
    BOOST_TEST(read_file(cli.dir.path() / "env").find("AZURE_CORE_NO_COLOR=true\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(azure_cli_prefers_the_epoch_expires_on)
{
    Cli cli("echo '{\"accessToken\":\"tok-cli\",\"expiresOn\":\"2023-11-14 22:13:20.000000\","
            "\"expires_on\":1700003600,\"tokenType\":\"Bearer\"}'\n");
    auto token = cli.get("tenant-2");
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST((token->expires_on == t0 + 3600s));
    BOOST_TEST(token->tenant == "tenant-2");
    BOOST_TEST(cli.args() ==
               "account\nget-access-token\n--output\njson\n--resource\nhttps://vault.azure.net\n--tenant\ntenant-2\n");
}

BOOST_AUTO_TEST_CASE(azure_cli_reads_an_rfc3339_expires_on)
{
    Cli cli("echo '{\"accessToken\":\"tok-cli\",\"expiresOn\":\"2023-11-15T00:13:20.5+02:00\"}'\n");
    auto token = cli.get();
    BOOST_TEST_REQUIRE(token.has_value());
    BOOST_TEST((token->expires_on == t0));
}

BOOST_AUTO_TEST_CASE(azure_cli_not_logged_in_is_explained)
{
    Cli cli("echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n");
    auto token = cli.get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::auth);
    BOOST_TEST(token.error().message == "no Azure credential: Azure CLI: not logged in; run 'az login'");

    auto tenant = cli.get("tenant-2");
    BOOST_TEST_REQUIRE(tenant.has_error());
    BOOST_TEST(tenant.error().message == "no Azure credential: Azure CLI: not logged in to tenant "
                                         "'tenant-2'; run 'az login --tenant tenant-2'");
}

BOOST_AUTO_TEST_CASE(azure_cli_failures_show_stderr_but_never_stdout)
{
    Cli cli("echo '{\"accessToken\":\"tok-leak\"}'\n"
            "printf 'ERROR: AADSTS70043: The refresh token has expired.\\nTrace ID: 1\\n' >&2\nexit 1\n");
    auto token = cli.get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::auth);
    BOOST_TEST(token.error().message == "Azure CLI: 'az account get-access-token' failed (exit 1): "
                                        "ERROR: AADSTS70043: The refresh token has expired.");
}

BOOST_AUTO_TEST_CASE(azure_cli_bad_output_is_reported_without_echoing_it)
{
    Cli cli("echo 'accessToken tok-leak not json'\n");
    auto token = cli.get();
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::bad_response);
    BOOST_TEST(token.error().message ==
               "Azure CLI: unexpected output from 'az account get-access-token' (not a JSON object)");

    Cli no_expiry("echo '{\"accessToken\":\"tok\"}'\n");
    auto missing = no_expiry.get();
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message ==
               "Azure CLI: unexpected output from 'az account get-access-token' (no expires_on or expiresOn)");
}

BOOST_AUTO_TEST_CASE(azure_cli_is_killed_after_its_timeout)
{
    Cli cli("exec sleep 10\n");
    cli.options.cli_timeout = 300ms;
    auth::AzureCredentialChain chain(cli.env, cli.http, [] { return t0; }, cli.options);
    const auto start = std::chrono::steady_clock::now();
    auto token = testing::run(chain.get_token({vault_scope, "", ""}));
    BOOST_TEST_REQUIRE(token.has_error());
    BOOST_TEST(token.error().code == Errc::timeout);
    BOOST_TEST(token.error().message == "Azure CLI: 'az' did not finish within 300 ms");
    BOOST_TEST((std::chrono::steady_clock::now() - start) < 5s);
}

BOOST_AUTO_TEST_SUITE_END()
