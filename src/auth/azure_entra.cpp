// Token sources that ask Entra ID's token endpoint directly (client
// credentials grant): the environment's service principal, with a client
// secret or a certificate, and AKS workload identity (a federated token).
#include "auth/azure_jwt.hpp"
#include "auth/azure_sources.hpp"

#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace secrun::auth::azure {
namespace asio = boost::asio;
using util::str_cat;

namespace {

constexpr std::string_view public_authority = "https://login.microsoftonline.com";
constexpr std::string_view jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::size_t certificate_limit = 1 << 20;
constexpr std::size_t federated_token_limit = 64 * 1024;

// "AZURE_TENANT_ID/AZURE_CLIENT_ID not set", or empty when both are set.
std::string missing(const EnvMap& env, std::initializer_list<std::string_view> names)
{
    std::string out;
    for (const auto name : names) {
        if (env.get_nonempty(name))
            continue;
        if (!out.empty())
            out += '/';
        out += name;
    }
    return out.empty() ? out : out + " not set";
}

// AZURE_AUTHORITY_HOST as the SDKs read it: https:// added when no scheme is
// written, trailing slashes dropped, anything but https refused.
Result<std::string> authority_host(const EnvMap& env, std::string_view fallback)
{
    const auto configured = env.get_nonempty("AZURE_AUTHORITY_HOST");
    std::string host(configured ? *configured : (fallback.empty() ? public_authority : fallback));
    if (host.find("://") == std::string::npos)
        host.insert(0, "https://");
    while (!host.empty() && host.back() == '/')
        host.pop_back();
    auto url = https::Url::parse(host);
    if (!url || url->scheme != "https" || url->target != "/")
        return Error(Errc::config, str_cat("AZURE_AUTHORITY_HOST ", util::quoted(host),
                                           " is not an https:// host (e.g. "
                                           "https://login.microsoftonline.com)"));
    return url->origin();
}

// The tenant a token is requested for: the configured one, or the one a
// Key Vault challenge names when AZURE_ADDITIONALLY_ALLOWED_TENANTS allows
// it (as the SDKs do).
Result<std::string> resolve_tenant(const EnvMap& env, std::string_view configured,
                                   std::string_view requested)
{
    if (requested.empty() || util::iequals(requested, configured) || configured == "adfs")
        return std::string(configured);
    const auto allowed = env.get("AZURE_ADDITIONALLY_ALLOWED_TENANTS").value_or("");
    for (const auto item : util::split(allowed, ';')) {
        const auto tenant = util::trim(item);
        if (tenant == "*" || util::iequals(tenant, requested))
            return std::string(requested);
    }
    return Error(Errc::auth,
                 str_cat("the vault belongs to tenant ", util::quoted(requested),
                         " but AZURE_TENANT_ID is ", util::quoted(configured),
                         " (add the tenant to AZURE_ADDITIONALLY_ALLOWED_TENANTS to allow it)"));
}

// POSTs a client credentials grant and reads the answer.
asio::awaitable<Result<AzureToken>> request_token(SourceContext ctx, https::Url endpoint,
                                                  std::string body, std::string tenant)
{
    https::Request request;
    request.method = "POST";
    const std::string host = endpoint.host;
    request.url = std::move(endpoint);
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Accept", "application/json"}};
    request.body = std::move(body);
    request.what = "Entra ID token request";
    auto sent = co_await ctx.http->send(std::move(request));
    if (!sent)
        co_return sent.error();
    const https::Response& response = *sent;
    if (response.status == 200) {
        auto token = parse_token_response(response.body, ctx.now(), host);
        if (token)
            token->tenant = std::move(tenant);
        co_return token;
    }
    const std::string detail = describe_error_body(response.body);
    const std::string status = std::to_string(response.status);
    if (response.status == 429 || response.status >= 500)
        co_return Error(Errc::unavailable,
                        str_cat(host, " answered HTTP ", status, " to the token request",
                                detail.empty() ? "" : ": ", detail));
    co_return Error(Errc::auth, str_cat(host, " rejected the token request (HTTP ", status, ")",
                                        detail.empty() ? "" : ": ", detail));
}

std::string form(std::initializer_list<std::pair<std::string_view, std::string_view>> fields)
{
    // Sized once so that no copy of a secret is left behind by a reallocation.
    std::size_t size = 0;
    for (const auto& [name, value] : fields)
        size += name.size() + 2 + 3 * value.size();
    std::string out;
    out.reserve(size);
    for (const auto& [name, value] : fields) {
        if (!out.empty())
            out += '&';
        out += name;
        out += '=';
        std::string encoded = util::percent_encode(value);
        out += encoded;
        cleanse(encoded);
    }
    return out;
}

Error failed(std::string_view source, Error e) { return with_context(std::move(e), source); }

} // namespace

asio::awaitable<Outcome> environment_credential(SourceContext ctx, AzureTokenRequest request)
{
    const EnvMap& env = *ctx.env;
    if (auto not_set = missing(env, {"AZURE_TENANT_ID", "AZURE_CLIENT_ID"}); !not_set.empty())
        co_return Unavailable{std::move(not_set)};
    const auto secret = env.get_nonempty("AZURE_CLIENT_SECRET");
    const auto certificate_path = env.get_nonempty("AZURE_CLIENT_CERTIFICATE_PATH");
    if (!secret && !certificate_path)
        co_return Unavailable{"neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH set"};

    // A client secret wins over a certificate, as in the SDKs.
    const std::string source = secret ? "Azure environment credential (client secret)"
                                      : "Azure environment credential (client certificate)";
    const std::string configured_tenant(*env.get_nonempty("AZURE_TENANT_ID"));
    const std::string client_id(*env.get_nonempty("AZURE_CLIENT_ID"));
    if (!is_tenant_id(configured_tenant))
        co_return failed(source, Error(Errc::config, str_cat("AZURE_TENANT_ID ",
                                                             util::quoted(configured_tenant),
                                                             " is not a tenant id or domain")));
    auto tenant = resolve_tenant(env, configured_tenant, request.tenant);
    if (!tenant)
        co_return failed(source, tenant.error());
    auto authority = authority_host(env, request.authority_host);
    if (!authority)
        co_return failed(source, authority.error());
    const std::string endpoint_text = str_cat(*authority, "/", *tenant, "/oauth2/v2.0/token");
    auto endpoint = https::Url::parse(endpoint_text);
    if (!endpoint)
        co_return failed(source, endpoint.error());

    std::string body;
    std::vector<std::string> variables;
    if (secret) {
        body = form({{"client_id", client_id},
                     {"scope", request.scope},
                     {"client_secret", *secret},
                     {"grant_type", "client_credentials"}});
        variables = {"AZURE_CLIENT_SECRET"};
    } else {
        auto contents =
            read_credential_file(*certificate_path, "AZURE_CLIENT_CERTIFICATE_PATH", certificate_limit);
        if (!contents)
            co_return failed(source, contents.error());
        const auto password = env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD").value_or("");
        auto certificate = load_client_certificate(contents->reveal(), password, *certificate_path);
        if (!certificate)
            co_return failed(source, certificate.error());
        const auto send_chain = env.get("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN").value_or("");
        AssertionClaims claims;
        claims.client_id = client_id;
        claims.audience = endpoint_text;
        claims.now = ctx.now();
        claims.send_chain = send_chain == "1" || util::iequals(send_chain, "true");
        auto assertion = make_client_assertion(*certificate, claims);
        if (!assertion)
            co_return failed(source, assertion.error());
        body = form({{"client_id", client_id},
                     {"scope", request.scope},
                     {"client_assertion_type", jwt_bearer},
                     {"client_assertion", assertion->reveal()},
                     {"grant_type", "client_credentials"}});
        variables = {"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD"};
    }
    auto token = co_await request_token(ctx, std::move(*endpoint), std::move(body), *tenant);
    if (!token)
        co_return failed(source, token.error());
    co_return Acquired{std::move(*token), source, std::move(variables)};
}

asio::awaitable<Outcome> workload_identity_credential(SourceContext ctx, AzureTokenRequest request)
{
    const EnvMap& env = *ctx.env;
    if (!env.get_nonempty("AZURE_FEDERATED_TOKEN_FILE"))
        co_return Unavailable{"AZURE_FEDERATED_TOKEN_FILE not set"};
    if (auto not_set = missing(env, {"AZURE_TENANT_ID", "AZURE_CLIENT_ID"}); !not_set.empty())
        co_return Unavailable{std::move(not_set)};

    const std::string source = "Azure workload identity";
    const std::string file(*env.get_nonempty("AZURE_FEDERATED_TOKEN_FILE"));
    const std::string configured_tenant(*env.get_nonempty("AZURE_TENANT_ID"));
    const std::string client_id(*env.get_nonempty("AZURE_CLIENT_ID"));
    if (!is_tenant_id(configured_tenant))
        co_return failed(source, Error(Errc::config, str_cat("AZURE_TENANT_ID ",
                                                             util::quoted(configured_tenant),
                                                             " is not a tenant id or domain")));
    auto tenant = resolve_tenant(env, configured_tenant, request.tenant);
    if (!tenant)
        co_return failed(source, tenant.error());
    auto authority = authority_host(env, request.authority_host);
    if (!authority)
        co_return failed(source, authority.error());
    auto endpoint = https::Url::parse(str_cat(*authority, "/", *tenant, "/oauth2/v2.0/token"));
    if (!endpoint)
        co_return failed(source, endpoint.error());

    // Read on every request: the kubelet rotates the file.
    auto contents = read_credential_file(file, "AZURE_FEDERATED_TOKEN_FILE", federated_token_limit);
    if (!contents)
        co_return failed(source, contents.error());
    const std::string_view assertion = util::trim(contents->reveal());
    if (assertion.empty())
        co_return failed(source, Error(Errc::config, str_cat("AZURE_FEDERATED_TOKEN_FILE ",
                                                             util::quoted(file), " is empty")));
    std::string body = form({{"client_id", client_id},
                             {"scope", request.scope},
                             {"client_assertion_type", jwt_bearer},
                             {"client_assertion", assertion},
                             {"grant_type", "client_credentials"}});
    auto token = co_await request_token(ctx, std::move(*endpoint), std::move(body), *tenant);
    if (!token)
        co_return failed(source, token.error());
    co_return Acquired{std::move(*token), source, {"AZURE_FEDERATED_TOKEN_FILE"}};
}

} // namespace secrun::auth::azure
