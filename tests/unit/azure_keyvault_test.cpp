#include "backends/azure_keyvault.hpp"

#include "azure_test_support.hpp"
#include "fakes/fake_https_client.hpp"
#include "fakes/run_awaitable.hpp"
#include "log.hpp"
#include "manifest/manifest.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace secrun;
using namespace secrun::backends;
using testing::FakeHttpsClient;
namespace asio = boost::asio;
namespace kv = secrun::backends::azure_keyvault;

namespace {

const std::chrono::system_clock::time_point t0{std::chrono::seconds(1700000000)};
const std::string vault = "https://muse-vault.vault.azure.net:443";
const std::string entra = "https://login.microsoftonline.com:443";

std::string token_json(std::string_view token)
{
    return util::str_cat(R"({"token_type":"Bearer","expires_in":3599,"access_token":")", token, R"("})");
}

std::string bundle(std::string_view name, std::string_view value, std::string_view host = "muse-vault.vault.azure.net")
{
    return util::str_cat(R"({"value":")", value, R"(","id":"https://)", host, "/secrets/", name,
                         R"(/4387e9f3d6e14c459867679a90fd0f79","attributes":{"enabled":true,"created":1493938410,"updated":1493938410,"recoveryLevel":"Recoverable+Purgeable"}})");
}

std::optional<std::string> header(const https::Request& r, std::string_view name)
{
    for (const auto& [key, value] : r.headers)
        if (util::iequals(key, name))
            return value;
    return std::nullopt;
}

https::Response response(unsigned status, std::string body, https::Headers headers = {})
{
    https::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

// Suspends before every request, so that concurrent fetches interleave as
// they do over the network.
class InterleavingClient final : public https::Client {
public:
    explicit InterleavingClient(https::Client& inner) : inner_(inner) {}
    asio::awaitable<Result<https::Response>> send(https::Request request) override
    {
        auto executor = co_await asio::this_coro::executor;
        co_await asio::post(executor, asio::use_awaitable);
        Result<https::Response> result = co_await inner_.send(std::move(request));
        co_return result;
    }

private:
    https::Client& inner_;
};

// A vault configured as the seed document does, with a service principal.
struct KeyVault {
    FakeHttpsClient http;
    InterleavingClient interleaving{http};
    EnvMap env{EnvMap::Map{{"PATH", "/nonexistent-secrun-test"},
                           {"AZURE_KEYVAULT_URL", "https://muse-vault.vault.azure.net/"},
                           {"AZURE_TENANT_ID", "tenant-1"},
                           {"AZURE_CLIENT_ID", "client-1"},
                           {"AZURE_CLIENT_SECRET", "client-secret"}}};
    Context context{env, interleaving, {}, false, false, [] { return t0; }};
    std::unique_ptr<Backend> backend_;

    Backend& backend()
    {
        if (!backend_) {
            auto made = make_backend("azure_keyvault", context);
            BOOST_TEST_REQUIRE(made.has_value());
            backend_ = std::move(*made);
        }
        return *backend_;
    }

    void tokens()
    {
        http.on("POST", entra + "/tenant-1/oauth2/v2.0/token", 200, token_json("tok-1"));
    }

    Result<void> prepare(std::vector<SecretId> ids) { return testing::run(backend().prepare(std::move(ids))); }

    Result<Fetched> fetch(std::string key, std::string version = {}, std::string stage = {})
    {
        return testing::run(backend().fetch({std::move(key), std::move(version), std::move(stage)}));
    }

    // Every fetch on one event loop at once, as the resolver runs them.
    std::vector<Result<Fetched>> fetch_all(const std::vector<std::string>& keys)
    {
        Backend& b = backend();
        asio::io_context ioc;
        std::vector<std::optional<Result<Fetched>>> slots(keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i)
            asio::co_spawn(ioc, b.fetch({keys[i], {}, {}}),
                           [&slots, i](std::exception_ptr e, Result<Fetched> r) {
                               if (!e)
                                   slots[i].emplace(std::move(r));
                           });
        ioc.run();
        std::vector<Result<Fetched>> out;
        for (auto& slot : slots) {
            BOOST_TEST_REQUIRE(slot.has_value());
            out.push_back(std::move(*slot));
        }
        return out;
    }

    std::string error(std::string key, std::string version = {})
    {
        auto r = fetch(std::move(key), std::move(version));
        return r ? std::string("(fetched)") : r.error().message;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(azure_keyvault)

// --- names and references ---

BOOST_AUTO_TEST_CASE(maps_env_names_to_key_vault_names)
{
    auto target = kv::parse_key("CH_HOST");
    BOOST_TEST_REQUIRE(target.has_value());
    BOOST_TEST(target->name == "CH-HOST");
    BOOST_TEST(target->vault.empty());
    BOOST_TEST(kv::parse_key("dd-api-key")->name == "dd-api-key");
    BOOST_TEST(kv::parse_key(std::string(127, 'a')).has_value());

    auto other = kv::parse_key("Other-Vault.vault.azure.net/DB_PASSWORD");
    BOOST_TEST_REQUIRE(other.has_value());
    BOOST_TEST(other->vault == "other-vault.vault.azure.net");
    BOOST_TEST(other->name == "DB-PASSWORD");
    BOOST_TEST(kv::parse_key("127.0.0.1:8443/x")->vault == "127.0.0.1:8443");
    BOOST_TEST(kv::parse_key("localhost:8443/x").has_value());
    BOOST_TEST(kv::parse_key("[::1]:8443/x").has_value());
    BOOST_TEST(kv::parse_key("127.example.com/x").has_error());
    BOOST_TEST(kv::parse_key("127.0.0.1.nip.io/x").has_error());
}

BOOST_AUTO_TEST_CASE(references_carry_a_vault_qualified_key)
{
    auto ref = manifest::parse_reference(
        "azure_keyvault://other-vault.vault.azure.net/DB_PASSWORD?version=0123abcd#password");
    BOOST_TEST_REQUIRE(ref.has_value());
    auto target = kv::parse_key(ref->key);
    BOOST_TEST_REQUIRE(target.has_value());
    BOOST_TEST(target->vault == "other-vault.vault.azure.net");
    BOOST_TEST(target->name == "DB-PASSWORD");
    BOOST_TEST(ref->option("version") == "0123abcd");

    auto local = manifest::parse_reference("azure_keyvault://127.0.0.1:8443/CH_HOST");
    BOOST_TEST_REQUIRE(local.has_value());
    BOOST_TEST(kv::parse_key(local->key)->vault == "127.0.0.1:8443");
}

BOOST_FIXTURE_TEST_CASE(check_key_explains_impossible_names, KeyVault)
{
    BOOST_TEST(!backend().check_key("CH_HOST").has_value());
    BOOST_TEST(!backend().check_key("muse-vault.vault.azure.cn/CH_HOST").has_value());
    BOOST_TEST(backend().check_key("CH.HOST").value_or("") ==
               "'CH.HOST' cannot be a Key Vault secret name (1-127 letters, digits and dashes; '_' "
               "is read as '-')");
    BOOST_TEST(backend().check_key(std::string(128, 'a')).value_or("") ==
               "'" + std::string(128, 'a') +
                   "' cannot be a Key Vault secret name (1-127 letters, digits and dashes; '_' is "
                   "read as '-')");
    BOOST_TEST(backend().check_key("").has_value());
    BOOST_TEST(backend().check_key("muse-vault.vault.azure.net/a/b").has_value());
    BOOST_TEST(backend().check_key("evil.example.com/CH_HOST").value_or("") ==
               "'evil.example.com/CH_HOST' names the vault 'evil.example.com', which is not a Key "
               "Vault host (*.vault.azure.net, *.vault.azure.cn, *.vault.usgovcloudapi.net)");
}

// --- fetching ---

BOOST_FIXTURE_TEST_CASE(gets_a_secret_with_a_bearer_token, KeyVault)
{
    tokens();
    http.on("GET", vault + "/secrets/CH-HOST?", 200, bundle("CH-HOST", "clickhouse.internal:9000"));
    BOOST_TEST_REQUIRE(prepare({{"CH_HOST", "", ""}}).has_value());
    auto got = fetch("CH_HOST");
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(got->value.reveal() == "clickhouse.internal:9000");
    BOOST_TEST(got->version == "4387e9f3d6e14c459867679a90fd0f79");
    BOOST_TEST(got->source == "https://muse-vault.vault.azure.net");

    BOOST_TEST_REQUIRE(http.requests.size() == 2u);
    const auto& r = http.requests[1];
    BOOST_TEST(r.method == "GET");
    BOOST_TEST(r.url.target == "/secrets/CH-HOST?api-version=2025-07-01");
    BOOST_TEST(header(r, "Authorization").value_or("") == "Bearer tok-1");
    BOOST_TEST(header(r, "Accept").value_or("") == "application/json");
    BOOST_TEST(!r.allow_http);
    BOOST_TEST(backend().credential_variables() == std::vector<std::string>{"AZURE_CLIENT_SECRET"});
}

BOOST_FIXTURE_TEST_CASE(pins_a_version, KeyVault)
{
    tokens();
    http.on("GET", vault + "/secrets/CH-HOST/0123456789abcdef0123456789abcdef?", 200,
            bundle("CH-HOST", "old"));
    auto got = fetch("CH_HOST", "0123456789abcdef0123456789abcdef");
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(got->value.reveal() == "old");
    BOOST_TEST(http.requests.back().url.target ==
               "/secrets/CH-HOST/0123456789abcdef0123456789abcdef?api-version=2025-07-01");

    BOOST_TEST(error("CH_HOST", "../keys") ==
               "version '../keys' is not a Key Vault secret version (letters and digits)");
    auto staged = fetch("CH_HOST", "", "AWSPREVIOUS");
    BOOST_TEST_REQUIRE(staged.has_error());
    BOOST_TEST(staged.error().code == Errc::manifest);
    BOOST_TEST(staged.error().message ==
               "?stage= is an AWS Secrets Manager option; Key Vault pins a version with ?version=");
}

BOOST_FIXTURE_TEST_CASE(accepts_the_vault_url_with_or_without_trailing_slash, KeyVault)
{
    env.set("AZURE_KEYVAULT_URL", "https://muse-vault.vault.azure.net");
    tokens();
    http.on("GET", vault + "/secrets/CH-HOST?", 200, bundle("CH-HOST", "v"));
    BOOST_TEST(fetch("CH_HOST").has_value());
}

BOOST_FIXTURE_TEST_CASE(reports_a_missing_or_bad_vault_url, KeyVault)
{
    env.erase("AZURE_KEYVAULT_URL");
    auto missing = prepare({{"CH_HOST", "", ""}});
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().code == Errc::config);
    BOOST_TEST(missing.error().message ==
               "AZURE_KEYVAULT_URL is not set (the vault's URL, e.g. https://muse-vault.vault.azure.net/)");

    KeyVault plain;
    plain.env.set("AZURE_KEYVAULT_URL", "http://muse-vault.vault.azure.net/");
    BOOST_TEST(plain.error("CH_HOST") ==
               "AZURE_KEYVAULT_URL 'http://muse-vault.vault.azure.net/' is not a vault URL (e.g. "
               "https://muse-vault.vault.azure.net/)");

    KeyVault path;
    path.env.set("AZURE_KEYVAULT_URL", "https://muse-vault.vault.azure.net/secrets/CH-HOST");
    BOOST_TEST(path.error("CH_HOST") ==
               "AZURE_KEYVAULT_URL 'https://muse-vault.vault.azure.net/secrets/CH-HOST' is not a "
               "vault URL (e.g. https://muse-vault.vault.azure.net/)");
    BOOST_TEST(path.http.requests.empty());
}

BOOST_FIXTURE_TEST_CASE(maps_each_key_vault_error_to_one_line, KeyVault)
{
    tokens();
    http.on("GET", vault + "/secrets/MISSING?", 404,
            R"({"error":{"code":"SecretNotFound","message":"A secret with (name/id) MISSING was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command."}})");
    http.on("GET", vault + "/secrets/DISABLED?", 403,
            R"({"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.","innererror":{"code":"SecretDisabled"}}})");
    http.on("GET", vault + "/secrets/RBAC?", 403,
            R"({"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource.\r\nIf role assignments were recently changed, please wait several minutes.","innererror":{"code":"ForbiddenByRbac"}}})");
    http.on("GET", vault + "/secrets/BUSY?", 429,
            R"({"error":{"code":"Throttled","message":"Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"}})",
            {{"Retry-After", "1"}});
    http.on("GET", vault + "/secrets/DOWN?", 503, "<html>Service Unavailable</html>");
    http.on("GET", vault + "/secrets/BAD?", 400,
            R"({"error":{"code":"BadParameter","message":"The request URI contains an invalid name: BAD"}})");
    http.on("GET", vault + "/secrets/ODD?", 200, R"({"id":"x"})");
    http.on("GET", vault + "/secrets/CUT?", 200, R"({"value": "cut-of)");

    const auto check = [&](std::string key, Errc code, std::string message) {
        auto r = fetch(key);
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().code == code);
        BOOST_TEST(r.error().message == message);
    };
    check("MISSING", Errc::not_found,
          "secret 'MISSING' in https://muse-vault.vault.azure.net: not found (SecretNotFound)");
    check("DISABLED", Errc::auth,
          "secret 'DISABLED' in https://muse-vault.vault.azure.net: disabled (SecretDisabled)");
    check("RBAC", Errc::auth,
          "secret 'RBAC' in https://muse-vault.vault.azure.net: access denied (ForbiddenByRbac: "
          "Caller is not authorized to perform action on resource.)");
    check("BUSY", Errc::unavailable,
          "secret 'BUSY' in https://muse-vault.vault.azure.net: throttled, still after retries "
          "(Throttled: Request was not processed because too many requests were received. Reason: "
          "VaultRequestTypeLimitReached)");
    check("DOWN", Errc::unavailable,
          "secret 'DOWN' in https://muse-vault.vault.azure.net: Key Vault answered HTTP 503");
    check("BAD", Errc::bad_response,
          "secret 'BAD' in https://muse-vault.vault.azure.net: bad request (BadParameter: The "
          "request URI contains an invalid name: BAD)");
    check("ODD", Errc::bad_response,
          "secret 'ODD' in https://muse-vault.vault.azure.net: the answer has no value (not a SecretBundle)");
    check("CUT", Errc::bad_response, "secret 'CUT' in https://muse-vault.vault.azure.net: the answer is not JSON");

    http.on("GET", vault + "/secrets/GONE/", 404, R"({"error":{"code":"SecretNotFound","message":"..."}})");
    auto version = fetch("GONE", "abc123");
    BOOST_TEST_REQUIRE(version.has_error());
    BOOST_TEST(version.error().message ==
               "secret 'GONE' version 'abc123' in https://muse-vault.vault.azure.net: not found (SecretNotFound)");

    http.on("GET", vault + "/secrets/NET?", [](const https::Request&) {
        return Result<https::Response>(Error(Errc::network, "connect to muse-vault.vault.azure.net:443: Connection refused"));
    });
    check("NET", Errc::network,
          "secret 'NET' in https://muse-vault.vault.azure.net: connect to "
          "muse-vault.vault.azure.net:443: Connection refused");
}

BOOST_FIXTURE_TEST_CASE(one_token_for_many_secrets, KeyVault)
{
    tokens();
    http.on("GET", vault + "/secrets/", [](const https::Request& r) {
        const auto name = r.url.target.substr(9, r.url.target.find('?') - 9);
        return Result<https::Response>(response(200, bundle(name, "value-of-" + name)));
    });
    const std::vector<std::string> keys = {"CH_HOST", "DD_API_KEY", "DB_USER", "DB_PASSWORD", "SENTRY_DSN"};
    std::vector<SecretId> ids;
    for (const auto& key : keys)
        ids.push_back({key, "", ""});
    BOOST_TEST_REQUIRE(prepare(ids).has_value());
    const auto results = fetch_all(keys);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        BOOST_TEST_REQUIRE(results[i].has_value());
        std::string mapped = keys[i];
        std::replace(mapped.begin(), mapped.end(), '_', '-');
        BOOST_TEST(results[i]->value.reveal() == "value-of-" + mapped);
    }
    BOOST_TEST(http.count("POST", entra) == 1u);
    BOOST_TEST(http.count("GET", vault + "/secrets/") == 5u);
}

BOOST_FIXTURE_TEST_CASE(warns_when_two_keys_name_one_secret, KeyVault)
{
    tokens();
    std::ostringstream captured;
    log::set_sink(&captured);
    auto prepared = prepare({{"CH_HOST", "", ""}, {"ch-host", "", ""}, {"CH_HOST", "v1", ""}});
    log::set_sink(nullptr);
    BOOST_TEST(prepared.has_value());
    BOOST_TEST(captured.str() == "secrun: warning: 'CH_HOST' and 'ch-host' name the same Key Vault secret "
                                 "'ch-host' (names are case-insensitive and '_' is read as '-')\n");
}

BOOST_FIXTURE_TEST_CASE(concurrent_fetches_without_prepare_share_one_token_request, KeyVault)
{
    tokens();
    http.on("GET", vault + "/secrets/", 200, bundle("X", "v"));
    const auto results = fetch_all({"A", "B", "C"});
    for (const auto& r : results)
        BOOST_TEST(r.has_value());
    BOOST_TEST(http.count("POST", entra) == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_failed_credential_is_reported_once_by_prepare, KeyVault)
{
    env.erase("AZURE_CLIENT_SECRET");
    env.set("AZURE_TOKEN_CREDENTIALS", "prod");
    env.set("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:8099");
    http.on("GET", "http://127.0.0.1:8099/", 400, R"({"error":"invalid_request","error_description":"Identity not found"})");
    auto prepared = prepare({{"CH_HOST", "", ""}, {"DD_API_KEY", "", ""}});
    BOOST_TEST_REQUIRE(prepared.has_error());
    BOOST_TEST(prepared.error().code == Errc::auth);
    BOOST_TEST(prepared.error().message ==
               "no Azure credential: environment: neither AZURE_CLIENT_SECRET nor "
               "AZURE_CLIENT_CERTIFICATE_PATH set; workload identity: AZURE_FEDERATED_TOKEN_FILE not "
               "set; managed identity: IMDS at http://127.0.0.1:8099 has no identity to use (HTTP "
               "400: invalid_request: Identity not found)");
    // A fetch after that reuses the outcome instead of asking again.
    BOOST_TEST(error("CH_HOST") == "secret 'CH-HOST' in https://muse-vault.vault.azure.net: " +
                                       prepared.error().message);
    BOOST_TEST(http.requests.size() == 1u);
}

// --- clouds and scopes ---

BOOST_AUTO_TEST_CASE(derives_scope_and_authority_from_the_vault_host)
{
    const auto check = [](std::string host, std::string scope, std::string authority) {
        const auto cloud = kv::cloud_for_host(host);
        BOOST_TEST(cloud.scope == scope);
        BOOST_TEST(cloud.authority_host == authority);
    };
    check("muse-vault.vault.azure.net", "https://vault.azure.net/.default", "https://login.microsoftonline.com");
    check("muse-vault.vault.azure.cn", "https://vault.azure.cn/.default", "https://login.chinacloudapi.cn");
    check("muse-vault.vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net/.default",
          "https://login.microsoftonline.us");
    check("127.0.0.1", "https://vault.azure.net/.default", "https://login.microsoftonline.com");
    check("vault.example.test", "https://vault.azure.net/.default", "https://login.microsoftonline.com");
}

BOOST_FIXTURE_TEST_CASE(asks_for_the_vault_clouds_scope, KeyVault)
{
    env.set("AZURE_KEYVAULT_URL", "https://muse-vault.vault.usgovcloudapi.net/");
    http.on("POST", "https://login.microsoftonline.us:443/tenant-1/oauth2/v2.0/token", 200, token_json("tok-gov"));
    http.on("GET", "https://muse-vault.vault.usgovcloudapi.net:443/secrets/CH-HOST?", 200,
            bundle("CH-HOST", "gov", "muse-vault.vault.usgovcloudapi.net"));
    auto got = fetch("CH_HOST");
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(http.requests.at(0).body ==
               "client_id=client-1&scope=https%3A%2F%2Fvault.usgovcloudapi.net%2F.default"
               "&client_secret=client-secret&grant_type=client_credentials");
    BOOST_TEST(header(http.requests.at(1), "Authorization").value_or("") == "Bearer tok-gov");
}

BOOST_FIXTURE_TEST_CASE(a_loopback_vault_gets_the_public_scope, KeyVault)
{
    env.set("AZURE_KEYVAULT_URL", "https://127.0.0.1:8443");
    tokens();
    http.on("GET", "https://127.0.0.1:8443/secrets/CH-HOST?", 200, bundle("CH-HOST", "local", "127.0.0.1:8443"));
    auto got = fetch("CH_HOST");
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(got->source == "https://127.0.0.1:8443");
    BOOST_TEST(http.requests.at(0).body.find("scope=https%3A%2F%2Fvault.azure.net%2F.default") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_reference_may_name_its_own_vault, KeyVault)
{
    tokens();
    http.on("POST", "https://login.chinacloudapi.cn:443/tenant-1/oauth2/v2.0/token", 200, token_json("tok-cn"));
    http.on("GET", vault + "/secrets/CH-HOST?", 200, bundle("CH-HOST", "main"));
    http.on("GET", "https://other-vault.vault.azure.net:443/secrets/DB-PASSWORD?", 200,
            bundle("DB-PASSWORD", "other", "other-vault.vault.azure.net"));
    http.on("GET", "https://cn-vault.vault.azure.cn:443/secrets/CN-KEY?", 200,
            bundle("CN-KEY", "china", "cn-vault.vault.azure.cn"));
    BOOST_TEST_REQUIRE(prepare({{"CH_HOST", "", ""},
                                {"other-vault.vault.azure.net/DB_PASSWORD", "", ""},
                                {"cn-vault.vault.azure.cn/CN_KEY", "", ""}})
                           .has_value());
    const auto results =
        fetch_all({"CH_HOST", "other-vault.vault.azure.net/DB_PASSWORD", "cn-vault.vault.azure.cn/CN_KEY"});
    BOOST_TEST_REQUIRE(results[1].has_value());
    BOOST_TEST(results[1]->value.reveal() == "other");
    BOOST_TEST(results[1]->source == "https://other-vault.vault.azure.net");
    BOOST_TEST_REQUIRE(results[2].has_value());
    BOOST_TEST(results[2]->value.reveal() == "china");
    // One token per cloud: public (two vaults) and China.
    BOOST_TEST(http.count("POST", entra) == 1u);
    BOOST_TEST(http.count("POST", "https://login.chinacloudapi.cn") == 1u);
    for (const auto& r : http.requests)
        if (r.url.host == "cn-vault.vault.azure.cn")
            BOOST_TEST(header(r, "Authorization").value_or("") == "Bearer tok-cn");
}

// --- the 401 challenge ---

BOOST_AUTO_TEST_CASE(parses_bearer_challenges)
{
    auto c = kv::parse_challenge(
        R"(Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net")");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->tenant == "72f988bf-86f1-41af-91ab-2d7cd011db47");
    BOOST_TEST(c->resource == "https://vault.azure.net");

    c = kv::parse_challenge(R"(bearer authorization_uri="https://login.windows.net/tenant-2/oauth2/authorize",scope="https://vault.azure.net/.default")");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->tenant == "tenant-2");
    BOOST_TEST(c->resource == "https://vault.azure.net");

    c = kv::parse_challenge("Bearer authorization=https://login.microsoftonline.com/t3 resource=https://vault.azure.cn PoP nonce=\"x\"");
    BOOST_TEST_REQUIRE(c.has_value());
    BOOST_TEST(c->tenant == "t3");
    BOOST_TEST(c->resource == "https://vault.azure.cn");

    BOOST_TEST(!kv::parse_challenge(R"(Bearer resource="https://vault.azure.net")").has_value());
    BOOST_TEST(!kv::parse_challenge(R"(Basic realm="x")").has_value());
    BOOST_TEST(!kv::parse_challenge(R"(Bearer authorization="https://login.microsoftonline.com/t)").has_value());
    BOOST_TEST(kv::parse_challenge(R"(Bearer authorization="https://login.microsoftonline.com/a%2Fb")")->tenant.empty());
}

BOOST_AUTO_TEST_CASE(checks_the_challenge_resource_against_the_vault_domain)
{
    const auto vault_url = [](std::string text) { return *https::Url::parse(text); };
    BOOST_TEST(kv::resource_matches(vault_url("https://muse-vault.vault.azure.net"), "https://vault.azure.net"));
    BOOST_TEST(kv::resource_matches(vault_url("https://muse-vault.vault.azure.cn"), "https://vault.azure.cn/"));
    BOOST_TEST(!kv::resource_matches(vault_url("https://muse-vault.vault.azure.net"), "https://management.azure.com"));
    BOOST_TEST(!kv::resource_matches(vault_url("https://muse-vault.vault.azure.net"), "https://evilvault.azure.net"));
    BOOST_TEST(!kv::resource_matches(vault_url("https://muse-vault.vault.azure.net"), ""));
    BOOST_TEST(kv::resource_matches(vault_url("https://127.0.0.1:8443"), "https://vault.azure.net"));
    BOOST_TEST(!kv::resource_matches(vault_url("https://127.0.0.1:8443"), "https://management.azure.com"));
}

namespace {

// A vault in tenant-2: any other token gets the 401 challenge.
Result<https::Response> tenant_2_vault(const https::Request& r)
{
    for (const auto& [key, value] : r.headers)
        if (key == "Authorization" && value == "Bearer tok-2")
            return response(200, bundle("X", "from-tenant-2"));
    return response(
        401, R"({"error":{"code":"Unauthorized","message":"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/tenant-2/."}})",
        {{"WWW-Authenticate",
          R"(Bearer authorization="https://login.microsoftonline.com/tenant-2", resource="https://vault.azure.net")"}});
}

} // namespace

BOOST_FIXTURE_TEST_CASE(answers_a_challenge_for_another_tenant_once, KeyVault)
{
    env.set("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "tenant-2");
    tokens();
    http.on("POST", entra + "/tenant-2/oauth2/v2.0/token", 200, token_json("tok-2"));
    http.on("GET", vault + "/secrets/", tenant_2_vault);
    BOOST_TEST_REQUIRE(prepare({{"A", "", ""}, {"B", "", ""}, {"C", "", ""}}).has_value());
    const auto results = fetch_all({"A", "B", "C"});
    for (const auto& r : results) {
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->value.reveal() == "from-tenant-2");
    }
    BOOST_TEST(http.count("POST", entra + "/tenant-1/") == 1u);
    BOOST_TEST(http.count("POST", entra + "/tenant-2/") == 1u);
    BOOST_TEST(http.count("GET", vault) == 6u); // each: 401, then 200

    // Later fetches go straight to the right tenant's token.
    BOOST_TEST(fetch("D").has_value());
    BOOST_TEST(http.count("GET", vault) == 7u);
    BOOST_TEST(http.count("POST", entra) == 2u);
}

BOOST_FIXTURE_TEST_CASE(refuses_a_tenant_the_credential_is_not_allowed, KeyVault)
{
    tokens();
    http.on("GET", vault + "/secrets/", tenant_2_vault);
    auto r = fetch("CH_HOST");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == Errc::auth);
    BOOST_TEST(r.error().message ==
               "secret 'CH-HOST' in https://muse-vault.vault.azure.net: Azure environment credential "
               "(client secret): the vault belongs to tenant 'tenant-2' but AZURE_TENANT_ID is "
               "'tenant-1' (add the tenant to AZURE_ADDITIONALLY_ALLOWED_TENANTS to allow it)");
}

BOOST_FIXTURE_TEST_CASE(a_challenge_for_the_same_tenant_means_the_token_was_refused, KeyVault)
{
    tokens();
    http.on("GET", vault + "/secrets/", 401,
            R"({"error":{"code":"Unauthorized","message":"AKV10022: Invalid audience."}})",
            {{"WWW-Authenticate",
              R"(Bearer authorization="https://login.microsoftonline.com/tenant-1", resource="https://vault.azure.net")"}});
    BOOST_TEST(error("CH_HOST") == "secret 'CH-HOST' in https://muse-vault.vault.azure.net: the vault "
                                   "rejected the token (Unauthorized: AKV10022: Invalid audience.)");
    BOOST_TEST(http.count("POST", entra) == 1u);

    KeyVault bare;
    bare.tokens();
    bare.http.on("GET", vault + "/secrets/", 401, "");
    BOOST_TEST(bare.error("CH_HOST") ==
               "secret 'CH-HOST' in https://muse-vault.vault.azure.net: the vault rejected the token (HTTP 401)");
}

BOOST_FIXTURE_TEST_CASE(refuses_a_challenge_for_a_foreign_resource, KeyVault)
{
    env.set("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "*");
    tokens();
    http.on("POST", entra + "/tenant-2/", 200, token_json("tok-2"));
    http.on("GET", vault + "/secrets/", 401, "",
            {{"WWW-Authenticate",
              R"(Bearer authorization="https://login.microsoftonline.com/tenant-2", resource="https://management.azure.com")"}});
    auto r = fetch("CH_HOST");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == Errc::auth);
    BOOST_TEST(r.error().message ==
               "secret 'CH-HOST' in https://muse-vault.vault.azure.net: the vault's challenge asks for "
               "a token for 'https://management.azure.com', which is not the domain of "
               "muse-vault.vault.azure.net; no token is sent for it");
    BOOST_TEST(http.count("POST", entra + "/tenant-2/") == 0u);
}

BOOST_FIXTURE_TEST_CASE(make_backend_knows_azure_keyvault_only_by_its_name, KeyVault)
{
    BOOST_TEST(backend().name() == "azure_keyvault");
    auto unknown = make_backend("azure_vault", context);
    BOOST_TEST_REQUIRE(unknown.has_error());
    BOOST_TEST(unknown.error().message == "unknown backend 'azure_vault'");
}

BOOST_AUTO_TEST_SUITE_END()
