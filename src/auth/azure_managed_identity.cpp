// Managed identity tokens: the App Service / Functions identity endpoint when
// IDENTITY_ENDPOINT + IDENTITY_HEADER are set, otherwise the instance
// metadata service (IMDS) of VMs, scale sets and AKS nodes.
#include "auth/azure_sources.hpp"

#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <boost/asio/use_awaitable.hpp>

namespace secrun::auth::azure {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using util::str_cat;

namespace {

constexpr std::string_view imds_default = "http://169.254.169.254";
constexpr std::string_view imds_path = "/metadata/identity/oauth2/token";
constexpr std::string_view app_service_source = "Azure managed identity (App Service)";
constexpr std::string_view imds_source = "Azure managed identity (IMDS)";
// IMDS guidance: retry 404 (updating), 410 (restarting), 429 and 5xx, five times.
constexpr int imds_attempts = 6;

// "resource=...&client_id=..." (a user-assigned identity is picked by AZURE_CLIENT_ID).
std::string identity_query(const EnvMap& env, std::string_view api_version, std::string_view scope)
{
    std::string query = str_cat("api-version=", api_version,
                                "&resource=", util::percent_encode(resource_from_scope(scope)));
    if (const auto client_id = env.get_nonempty("AZURE_CLIENT_ID"))
        query += str_cat("&client_id=", util::percent_encode(*client_id));
    return query;
}

Error http_failure(std::string_view source, std::string_view endpoint, const https::Response& r)
{
    const std::string detail = describe_error_body(r.body);
    const bool transient = r.status == 404 || r.status == 410 || r.status == 429 || r.status >= 500;
    return Error(transient ? Errc::unavailable : Errc::auth,
                 str_cat(source, ": ", endpoint, " answered HTTP ", std::to_string(r.status),
                         detail.empty() ? "" : ": ", detail));
}

asio::awaitable<Outcome> app_service(SourceContext ctx, AzureTokenRequest request)
{
    const EnvMap& env = *ctx.env;
    const std::string endpoint_text(*env.get_nonempty("IDENTITY_ENDPOINT"));
    auto url = https::Url::parse(endpoint_text);
    if (!url)
        co_return with_context(url.error(), str_cat(app_service_source, ": IDENTITY_ENDPOINT"));
    // IDENTITY_ENDPOINT already has a path (/msi/token); the query is appended.
    url->target += url->target.find('?') == std::string::npos ? '?' : '&';
    url->target += identity_query(env, "2019-08-01", request.scope);

    https::Request r;
    r.url = std::move(*url);
    r.headers = {{"X-IDENTITY-HEADER", std::string(*env.get_nonempty("IDENTITY_HEADER"))},
                 {"Accept", "application/json"}};
    r.allow_http = true; // a loopback endpoint inside the App Service sandbox
    r.what = "App Service managed identity token";
    const std::string origin = r.url.origin();
    auto sent = co_await ctx.http->send(std::move(r));
    if (!sent)
        co_return with_context(sent.error(), app_service_source);
    if (sent->status != 200)
        co_return http_failure(app_service_source, origin, *sent);
    auto token = parse_token_response(sent->body, ctx.now(), origin);
    if (!token)
        co_return with_context(token.error(), app_service_source);
    co_return Acquired{std::move(*token), std::string(app_service_source),
                       {"IDENTITY_ENDPOINT", "IDENTITY_HEADER"}};
}

// Is anything answering at the IMDS address? A laptop has nothing there, and
// waiting for the full token request's retries would take far too long.
asio::awaitable<std::optional<Unavailable>> probe_imds(SourceContext ctx, https::Url base)
{
    https::Request r;
    r.url = base;
    r.url.target = std::string(imds_path);
    r.allow_http = true;
    r.timeout = ctx.options.imds_probe_timeout;
    r.max_attempts = 1;
    r.what = "IMDS probe";
    auto sent = co_await ctx.http->send(std::move(r));
    const std::string where = base.origin();
    if (!sent) {
        const std::string why =
            sent.error().code == Errc::timeout
                ? str_cat("no answer within ", std::to_string(ctx.options.imds_probe_timeout.count()),
                          " ms")
                : sent.error().message;
        co_return Unavailable{str_cat("no IMDS at ", where, " (", why, ")")};
    }
    // Docker Desktop answers for the address but cannot reach a real IMDS.
    if (sent->status == 403 && sent->body.find("unreachable") != std::string::npos)
        co_return Unavailable{str_cat("IMDS at ", where, " is unreachable (HTTP 403)")};
    co_return std::nullopt;
}

asio::awaitable<Outcome> imds(SourceContext ctx, AzureTokenRequest request)
{
    const EnvMap& env = *ctx.env;
    // AZURE_POD_IDENTITY_AUTHORITY_HOST replaces the address (and skips the probe).
    const auto override_host = env.get_nonempty("AZURE_POD_IDENTITY_AUTHORITY_HOST");
    std::string base_text(override_host ? *override_host : imds_default);
    while (!base_text.empty() && base_text.back() == '/')
        base_text.pop_back();
    auto base = https::Url::parse(base_text);
    if (!base)
        co_return with_context(base.error(),
                               str_cat(imds_source, ": AZURE_POD_IDENTITY_AUTHORITY_HOST"));
    const std::string where = base->origin();
    if (!override_host) {
        auto unavailable = co_await probe_imds(ctx, *base);
        if (unavailable)
            co_return std::move(*unavailable);
    }

    https::Request r;
    r.url = *base;
    r.url.target = str_cat(base->target == "/" ? "" : base->target, imds_path, "?",
                           identity_query(env, "2018-02-01", request.scope));
    r.headers = {{"Metadata", "true"}, {"Accept", "application/json"}};
    r.allow_http = true;
    r.max_attempts = imds_attempts;
    r.retry_if = [](const https::Response& response) {
        return response.status == 404 || response.status == 410;
    };
    r.what = "IMDS managed identity token";
    auto sent = co_await ctx.http->send(std::move(r));
    if (!sent)
        co_return with_context(sent.error(), imds_source);
    // 400: this machine has no (such) identity; the SDKs move on to the next source.
    if (sent->status == 400) {
        const std::string detail = describe_error_body(sent->body);
        co_return Unavailable{str_cat("IMDS at ", where, " has no identity to use (HTTP 400",
                                      detail.empty() ? "" : ": ", detail, ")")};
    }
    if (sent->status != 200)
        co_return http_failure(imds_source, where, *sent);
    auto token = parse_token_response(sent->body, ctx.now(), where);
    if (!token)
        co_return with_context(token.error(), imds_source);
    co_return Acquired{std::move(*token), std::string(imds_source), {}};
}

} // namespace

asio::awaitable<Outcome> managed_identity_credential(SourceContext ctx, AzureTokenRequest request)
{
    const EnvMap& env = *ctx.env;
    const bool endpoint = env.get_nonempty("IDENTITY_ENDPOINT").has_value();
    if (endpoint && env.get_nonempty("IDENTITY_HEADER")) {
        if (env.get_nonempty("IDENTITY_SERVER_THUMBPRINT"))
            co_return Unavailable{"Service Fabric managed identity is not supported"};
        Outcome outcome = co_await app_service(ctx, std::move(request));
        co_return outcome;
    }
    if (endpoint && env.get_nonempty("IMDS_ENDPOINT"))
        co_return Unavailable{"Azure Arc managed identity is not supported"};
    Outcome outcome = co_await imds(ctx, std::move(request));
    co_return outcome;
}

} // namespace secrun::auth::azure
