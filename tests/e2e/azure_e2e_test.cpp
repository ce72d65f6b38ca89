// The secrun binary end to end on the azure_keyvault backend, against the
// loopback Azure fake (Key Vault, Entra ID, IMDS, App Service), with every
// credential source; and Microsoft's Python SDK reading the same fake, as an
// independent check that the fake answers like the service.
#include "e2e/harness.hpp"
#include "auth/azure_jwt.hpp"
#include "fakes/fake_cloud_process.hpp"
#include "fakes/run_awaitable.hpp"
#include "fakes/temp_dir.hpp"
#include "util/encoding.hpp"
#include "util/strings.hpp"
#include "util/subprocess.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <unistd.h>

using namespace secrun;
using namespace secrun::e2e;
using testing::FakeCloudProcess;
using testing::TempDir;
namespace json = boost::json;

namespace {

constexpr std::string_view old_version = "0123456789abcdef0123456789abcdef";

std::string scenario(std::string_view vault_tenant = "tenant-1", std::string_view faults = "[]")
{
    return util::str_cat(R"({"faults": )", faults, R"(, "vendors": {"azure": {
      "tenant": ")", vault_tenant, R"(",
      "principals": {
        "client-1": {"secret": "sp-secret-value", "tenants": ["tenant-1", "tenant-2"]},
        "cert-app": {"certificate": "client-cert.pem"},
        "wi-app": {"federated_token": "eyJ.federated-token.sig"},
        "mi-app": {"managed_identity": true},
        "system": {"managed_identity": true},
        "outsider": {"secret": "outsider-secret"}
      },
      "readers": ["client-1", "cert-app", "wi-app", "mi-app", "system", "dev"],
      "identity_header": "identity-header-value",
      "tokens": {"tok-cli": {"principal": "dev", "tenant": "tenant-1"}},
      "secrets": {
        "CH-HOST": "clickhouse.internal:9000",
        "DD-API-KEY": "dd-api-key-value",
        "DATABASE": "{\"user\":\"muse\",\"password\":\"p@ss w0rd\"}",
        "ROTATED": {"versions": [{"id": "0123456789abcdef0123456789abcdef", "value": "old-value"},
                                 {"value": "new-value"}]},
        "OFF": {"value": "disabled-value", "enabled": false}
      }}}})");
}

constexpr std::string_view manifest = "CH_HOST\n"
                                      "DD_API_KEY\n"
                                      "DB_USER     = DATABASE#user\n"
                                      "DB_PASSWORD = DATABASE#password\n"
                                      "OLD         = ROTATED?version=0123456789abcdef0123456789abcdef\n"
                                      "NEW         = ROTATED\n";

struct AzureFixture {
    FakeCloudProcess cloud;
    TempDir dir{"e2e-azure"};
    EnvMap env = base_env();

    explicit AzureFixture(std::string scenario_text = scenario())
        : cloud({.scenario = std::move(scenario_text)})
    {
        dir.write("secrets.manifest", manifest);
        env.set("SSL_CERT_FILE", cloud.ca_file().string());
        env.set("SECRETS_BACKEND", "azure_keyvault");
        env.set("AZURE_KEYVAULT_URL", util::str_cat(cloud.https_url(), "/"));
        env.set("AZURE_AUTHORITY_HOST", cloud.https_url());
    }

    void service_principal(std::string secret = "sp-secret-value")
    {
        env.set("AZURE_TENANT_ID", "tenant-1");
        env.set("AZURE_CLIENT_ID", "client-1");
        env.set("AZURE_CLIENT_SECRET", std::move(secret));
    }

    Run run(std::vector<std::string> args)
    {
        return run_secrun(args, env, dir.path());
    }

    // Runs print_env through secrun; the command must succeed.
    std::map<std::string, std::string> child_env(std::vector<std::string> args = {})
    {
        args.push_back("--");
        args.push_back(helper("print_env"));
        Run r = run(args);
        BOOST_TEST_INFO("stderr: " << r.err);
        BOOST_TEST_REQUIRE(r.status == 0);
        return parse_env0(r.out);
    }

    void check_manifest_values(const std::map<std::string, std::string>& vars)
    {
        BOOST_TEST(vars.at("CH_HOST") == "clickhouse.internal:9000");
        BOOST_TEST(vars.at("DD_API_KEY") == "dd-api-key-value");
        BOOST_TEST(vars.at("DB_USER") == "muse");
        BOOST_TEST(vars.at("DB_PASSWORD") == "p@ss w0rd");
        BOOST_TEST(vars.at("OLD") == "old-value");
        BOOST_TEST(vars.at("NEW") == "new-value");
    }

    std::uint64_t token_posts(std::string_view tenant = "tenant-1") const
    {
        return cloud.requests("POST", util::str_cat("/", tenant, "/oauth2/v2.0/token"));
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(azure_keyvault_e2e)

BOOST_FIXTURE_TEST_CASE(service_principal_as_the_seed_configures_it, AzureFixture)
{
    service_principal();
    const auto vars = child_env();
    check_manifest_values(vars);
    // One token for the run, one GET per distinct secret (DATABASE once for two fields).
    BOOST_TEST(token_posts() == 1u);
    BOOST_TEST(cloud.counter("vendor.azure.secret_reads") == 5u);
    BOOST_TEST(cloud.counter("vendor.azure.challenges") == 0u);
    BOOST_TEST(vars.at("AZURE_CLIENT_SECRET") == "sp-secret-value");
}

BOOST_FIXTURE_TEST_CASE(scrub_credentials_removes_the_client_secret, AzureFixture)
{
    service_principal();
    const auto vars = child_env({"--scrub-credentials"});
    BOOST_TEST(vars.at("CH_HOST") == "clickhouse.internal:9000");
    BOOST_TEST(vars.count("AZURE_CLIENT_SECRET") == 0u);
}

BOOST_FIXTURE_TEST_CASE(client_certificate, AzureFixture)
{
    env.set("AZURE_TENANT_ID", "tenant-1");
    env.set("AZURE_CLIENT_ID", "cert-app");
    env.set("AZURE_CLIENT_CERTIFICATE_PATH", cloud.client_pem().string());
    check_manifest_values(child_env());
    BOOST_TEST(cloud.counter("vendor.azure.tokens_issued") == 1u);
    BOOST_TEST(cloud.counter("vendor.azure.token_errors") == 0u);
}

BOOST_FIXTURE_TEST_CASE(workload_identity, AzureFixture)
{
    env.set("AZURE_TENANT_ID", "tenant-1");
    env.set("AZURE_CLIENT_ID", "wi-app");
    env.set("AZURE_FEDERATED_TOKEN_FILE", dir.write("token", "eyJ.federated-token.sig\n").string());
    check_manifest_values(child_env());
    BOOST_TEST(token_posts() == 1u);
}

BOOST_FIXTURE_TEST_CASE(managed_identity_through_imds, AzureFixture)
{
    env.set("AZURE_POD_IDENTITY_AUTHORITY_HOST", cloud.http_url());
    check_manifest_values(child_env()); // the system-assigned identity
    env.set("AZURE_CLIENT_ID", "mi-app");
    check_manifest_values(child_env()); // a user-assigned one
    BOOST_TEST(cloud.counter("vendor.azure.imds_tokens") == 2u);
}

BOOST_FIXTURE_TEST_CASE(managed_identity_on_app_service, AzureFixture)
{
    env.set("IDENTITY_ENDPOINT", util::str_cat(cloud.http_url(), "/msi/token"));
    env.set("IDENTITY_HEADER", "identity-header-value");
    env.set("AZURE_CLIENT_ID", "mi-app");
    check_manifest_values(child_env());
    BOOST_TEST(cloud.counter("vendor.azure.app_service_tokens") == 1u);
}

BOOST_FIXTURE_TEST_CASE(azure_cli_token, AzureFixture)
{
    const auto az = dir.write("az", "#!/bin/sh\necho '{\"accessToken\":\"tok-cli\",\"expiresOn\":"
                                           "\"2099-01-01 00:00:00.000000\",\"tokenType\":\"Bearer\"}'\n");
    ::chmod(az.c_str(), 0700);
    env.set("PATH", util::str_cat(dir.path().string(), ":/usr/bin:/bin"));
    env.set("AZURE_TOKEN_CREDENTIALS", "dev");
    check_manifest_values(child_env());
    BOOST_TEST(cloud.counter("vendor.azure.secret_reads") == 5u);
}

BOOST_FIXTURE_TEST_CASE(a_rejected_client_secret_stops_the_run, AzureFixture)
{
    service_principal("wrong-secret");
    env.set("AZURE_POD_IDENTITY_AUTHORITY_HOST", cloud.http_url());
    const Run r = run({"--", helper("print_env")});
    BOOST_TEST(r.status == 125);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(contains(r.err, "Azure environment credential (client secret): 127.0.0.1 rejected the "
                               "token request (HTTP 401): invalid_client: AADSTS7000215: Invalid "
                               "client secret provided."));
    BOOST_TEST(cloud.counter("vendor.azure.imds_tokens") == 0u); // the chain stopped there
    BOOST_TEST(!contains(r.err, "wrong-secret"));
}

BOOST_FIXTURE_TEST_CASE(missing_disabled_and_forbidden_secrets_are_named, AzureFixture)
{
    service_principal();
    dir.write("secrets.manifest", "GONE = NO_SUCH_SECRET\nOFF\n");
    const Run r = run({"--", helper("print_env")});
    BOOST_TEST(r.status == 125);
    const std::string vault = cloud.https_url();
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST(contains(r.err, util::str_cat("secret 'NO-SUCH-SECRET' in ", vault, ": not found (SecretNotFound)")));
    BOOST_TEST(contains(r.err, util::str_cat("secret 'OFF' in ", vault, ": disabled (SecretDisabled)")));
    BOOST_TEST(!contains(r.err, "disabled-value"));

    dir.write("secrets.manifest", "SENTRY_DSN = NO_SUCH_SECRET optional\nCH_HOST\n");
    const auto vars = child_env();
    BOOST_TEST(vars.count("SENTRY_DSN") == 0u);
    BOOST_TEST(vars.at("CH_HOST") == "clickhouse.internal:9000");

    AzureFixture outsider;
    outsider.env.set("AZURE_TENANT_ID", "tenant-1");
    outsider.env.set("AZURE_CLIENT_ID", "outsider");
    outsider.env.set("AZURE_CLIENT_SECRET", "outsider-secret");
    const Run denied = outsider.run({"--", helper("print_env")});
    BOOST_TEST(denied.status == 125);
    BOOST_TEST_INFO("stderr: " << denied.err);
    BOOST_TEST(contains(denied.err, util::str_cat("secret 'CH-HOST' in ", outsider.cloud.https_url(),
                                        ": access denied (ForbiddenByRbac: Caller is not authorized "
                                        "to perform action on resource.)")));
}

BOOST_AUTO_TEST_CASE(follows_the_vault_to_its_tenant)
{
    AzureFixture f(scenario("tenant-2"));
    f.service_principal();
    f.env.set("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "tenant-2");
    f.check_manifest_values(f.child_env());
    BOOST_TEST(f.token_posts("tenant-1") == 1u);
    BOOST_TEST(f.token_posts("tenant-2") == 1u);
    BOOST_TEST(f.cloud.counter("vendor.azure.secret_reads") == 5u);

    AzureFixture refused(scenario("tenant-2"));
    refused.service_principal();
    const Run r = refused.run({"--", helper("print_env")});
    BOOST_TEST(r.status == 125);
    BOOST_TEST(contains(r.err, "the vault belongs to tenant 'tenant-2' but AZURE_TENANT_ID is "
                               "'tenant-1' (add the tenant to AZURE_ADDITIONALLY_ALLOWED_TENANTS to "
                               "allow it)"));
}

BOOST_AUTO_TEST_CASE(a_throttled_read_is_retried_after_retry_after)
{
    AzureFixture f(scenario("tenant-1", R"([{"method": "GET", "path": "/secrets/CH-HOST", "count": 1,
        "action": "status", "status": 429, "headers": {"Retry-After": "1"},
        "body": {"error": {"code": "Throttled", "message": "Request was not processed because too many requests were received."}}}])"));
    f.service_principal();
    const auto start = std::chrono::steady_clock::now();
    f.check_manifest_values(f.child_env());
    BOOST_TEST((std::chrono::steady_clock::now() - start) >= std::chrono::milliseconds(900));
    BOOST_TEST(f.cloud.requests("GET", "/secrets/CH-HOST") == 2u);
}

BOOST_FIXTURE_TEST_CASE(check_shows_versions_never_values, AzureFixture)
{
    service_principal();
    const Run r = run({"check"});
    BOOST_TEST_INFO("stdout: " << r.out << "\nstderr: " << r.err);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(contains(r.out, util::str_cat(cloud.https_url(), " (version ", old_version, ")")));
    for (const auto* value : {"clickhouse.internal", "dd-api-key-value", "p@ss w0rd", "old-value", "new-value"})
        BOOST_TEST(!contains(r.out + r.err, value));
}

// --- the fake is as strict as the service (checked with curl) ---

namespace {

struct Curl {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const
    {
        boost::test_tools::assertion_result ok(::access("/usr/bin/curl", X_OK) == 0);
        if (!ok)
            ok.message() << "curl is not installed";
        return ok;
    }
};

// POSTs a form to the fake's token endpoint; returns "STATUS BODY".
std::string post_token(const AzureFixture& f, const std::string& form)
{
    auto ran = testing::run(util::run_subprocess(
        {"/usr/bin/curl", "-q", "--silent", "--noproxy", "*", "--cacert", f.cloud.ca_file().string(),
         "--write-out", " %{http_code}", "--data", form,
         util::str_cat(f.cloud.https_url(), "/tenant-1/oauth2/v2.0/token")},
        base_env(), {std::chrono::seconds(20), 1 << 20}));
    BOOST_TEST_REQUIRE(ran.has_value());
    const auto space = ran->out.rfind(' ');
    return util::str_cat(ran->out.substr(space + 1), " ", ran->out.substr(0, space));
}

std::string assertion_form(std::string_view assertion)
{
    return util::str_cat("client_id=cert-app&scope=https%3A%2F%2Fvault.azure.net%2F.default"
                         "&grant_type=client_credentials&client_assertion_type="
                         "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                         "&client_assertion=",
                         assertion);
}

} // namespace

BOOST_FIXTURE_TEST_CASE(the_fake_verifies_client_assertions, AzureFixture,
                        *boost::unit_test::precondition(Curl{}))
{
    const std::string pem = [&] {
        std::ifstream in(cloud.client_pem());
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    auto certificate = auth::load_client_certificate(pem, "", "client.pem");
    BOOST_TEST_REQUIRE(certificate.has_value());
    auth::AssertionClaims claims;
    claims.client_id = "cert-app";
    claims.audience = util::str_cat(cloud.https_url(), "/tenant-1/oauth2/v2.0/token");
    claims.now = std::chrono::system_clock::now();
    const auto sign = [&](const auth::AssertionClaims& c) {
        return std::string(auth::make_client_assertion(*certificate, c).value().reveal());
    };

    const std::string good = sign(claims);
    BOOST_TEST(post_token(*this, assertion_form(good)).substr(0, 4) == "200 ");

    // The same signature over changed claims.
    const auto parts = util::split(good, '.');
    std::string payload = util::base64url_decode(parts[1]).value();
    payload.replace(payload.find("\"sub\""), 5, "\"xub\"");
    const std::string tampered =
        util::str_cat(parts[0], ".", util::base64url_encode(payload), ".", parts[2]);
    BOOST_TEST(contains(post_token(*this, assertion_form(tampered)),
                        "401 {\"error\":\"invalid_client\",\"error_description\":\"AADSTS700027: "
                        "Client assertion failed signature validation."));

    auto elsewhere = claims;
    elsewhere.audience = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token";
    BOOST_TEST(contains(post_token(*this, assertion_form(sign(elsewhere))), "AADSTS700212: "));

    auto stale = claims;
    stale.now -= std::chrono::hours(1);
    BOOST_TEST(contains(post_token(*this, assertion_form(sign(stale))),
                        "AADSTS700024: Client assertion is not within its valid time range."));
    BOOST_TEST(cloud.counter("vendor.azure.tokens_issued") == 1u);
    BOOST_TEST(cloud.counter("vendor.azure.token_errors") == 3u);
}

// --- Microsoft's Python SDK against the same fake ---

namespace {

const char* python = "/usr/bin/python3";

struct PythonSdk {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const
    {
        if (::access(python, X_OK) != 0) {
            boost::test_tools::assertion_result missing(false);
            missing.message() << python << " is not installed";
            return missing;
        }
        const std::string probe =
            util::str_cat(python, " -c 'import azure.keyvault.secrets' >/dev/null 2>&1");
        boost::test_tools::assertion_result ok(std::system(probe.c_str()) == 0);
        if (!ok)
            ok.message() << "Debian python3-azure is not installed";
        return ok;
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(python_sdk_reads_the_fake_like_secrun, *boost::unit_test::precondition(PythonSdk{}))
{
    AzureFixture f(scenario("tenant-2"));
    f.service_principal();
    f.env.set("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "tenant-2");
    const auto vars = f.child_env();

    EnvMap py = base_env();
    py.set("VAULT_URL", f.cloud.https_url());
    py.set("AUTHORITY", f.cloud.https_url());
    py.set("TENANT", "tenant-1");
    py.set("CLIENT_ID", "client-1");
    py.set("CLIENT_SECRET", "sp-secret-value");
    py.set("REQUESTS_CA_BUNDLE", f.cloud.ca_file().string());
    const std::string script = util::str_cat(SECRUN_E2E_SOURCE_DIR, "/azure_sdk_reader.py");
    auto ran = testing::run(util::run_subprocess(
        {python, script, "CH-HOST", "DD-API-KEY", "ROTATED", util::str_cat("ROTATED/", old_version),
         "NO-SUCH-SECRET", "OFF"},
        py, {std::chrono::seconds(60), 1 << 20}));
    BOOST_TEST_REQUIRE(ran.has_value());
    BOOST_TEST_INFO("python stderr: " << ran->err);
    BOOST_TEST_REQUIRE(ran->exit_code == 0);
    const json::object got = json::parse(ran->out).as_object();

    const auto value = [&](std::string_view ref) {
        return std::string(got.at(ref).as_object().at("value").as_string());
    };
    BOOST_TEST(value("CH-HOST") == vars.at("CH_HOST"));
    BOOST_TEST(value("DD-API-KEY") == vars.at("DD_API_KEY"));
    BOOST_TEST(value("ROTATED") == vars.at("NEW"));
    BOOST_TEST(value(util::str_cat("ROTATED/", old_version)) == vars.at("OLD"));
    BOOST_TEST(got.at("NO-SUCH-SECRET").as_object().at("error").as_string() ==
               "ResourceNotFoundError: SecretNotFound");
    BOOST_TEST(got.at("OFF").as_object().at("error").as_string() == "HttpResponseError: Forbidden");
    // The SDK learnt the vault's tenant from the challenge, as secrun did.
    BOOST_TEST(got.at("_tenants").as_array() == json::array{"tenant-2"});
}

BOOST_AUTO_TEST_SUITE_END()
