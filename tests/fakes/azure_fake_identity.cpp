// The Azure fake's identity endpoints: Entra ID's token endpoint (client
// secret, client certificate assertion verified against the registered
// certificate, workload identity federated token), IMDS and App Service.
// Error codes follow Entra's shapes; the AADSTS numbers other than 7000215,
// 700016 and 900144 are plausible, not confirmed.
#include "azure_fake.hpp"

#include <boost/json.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

namespace secrun::fakes::azure
{
namespace
{

namespace json = boost::json;

constexpr std::string_view jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

HttpResponse aad_error(unsigned status, std::string error, std::string description, int code)
{
    return HttpResponse::json(
        status, json::object{{"error", error},
                             {"error_description", description +
                                                       "\r\nTrace ID: 00000000-0000-0000-0000-000000000000"
                                                       "\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000"
                                                       "\r\nTimestamp: 2026-01-01 00:00:00Z"},
                             {"error_codes", json::array{code}},
                             {"trace_id", "00000000-0000-0000-0000-000000000000"},
                             {"correlation_id", "00000000-0000-0000-0000-000000000000"}});
}

std::string base64url_encode(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=')
        out.pop_back();
    for (char& c : out)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    std::string standard(text);
    for (char& c : standard)
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (standard.size() % 4 != 0)
        standard += '=';
    return base64_decode(standard);
}

std::string sha_b64url(std::string_view data, const EVP_MD* md)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), out, &size, md, nullptr);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(out), size));
}

// Checks a client assertion as Entra does; returns an AADSTS description on failure.
std::optional<std::pair<int, std::string>> check_assertion(const Principal& principal,
                                                           std::string_view client_id,
                                                           std::string_view audience,
                                                           std::string_view jwt)
{
    const auto invalid = std::make_pair(50027, std::string("JWT token is invalid or malformed."));
    const auto first = jwt.find('.');
    const auto last = jwt.rfind('.');
    if (first == std::string_view::npos || first == last)
        return invalid;
    const auto header_text = base64url_decode(jwt.substr(0, first));
    const auto payload_text = base64url_decode(jwt.substr(first + 1, last - first - 1));
    const auto signature = base64url_decode(jwt.substr(last + 1));
    boost::system::error_code ec;
    const json::value header = header_text ? json::parse(*header_text, ec) : json::value();
    const json::value payload = payload_text && !ec ? json::parse(*payload_text, ec) : json::value();
    if (ec || !header.is_object() || !payload.is_object() || !signature)
        return invalid;

    const auto text = [](const json::object& o, std::string_view key) -> std::string {
        const auto* v = o.if_contains(key);
        return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    const auto& h = header.get_object();
    const std::string alg = text(h, "alg");
    if (alg != "RS256" && alg != "PS256")
        return std::make_pair(5002738, "The client assertion's alg '" + alg + "' is not supported.");
    const bool known = text(h, "x5t") == principal.x5t ||
                       text(h, "x5t#S256") == sha_b64url(principal.certificate_der, EVP_sha256());
    if (!known)
        return std::make_pair(700027, std::string("The certificate with identifier used to sign the "
                                                  "client assertion is not registered on application."));

    const auto* der = reinterpret_cast<const unsigned char*>(principal.certificate_der.data());
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        d2i_X509(nullptr, &der, static_cast<long>(principal.certificate_der.size())), X509_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    const std::string_view input = jwt.substr(0, last);
    const bool verified =
        cert && ctx &&
        EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, X509_get0_pubkey(cert.get())) == 1 &&
        (alg == "RS256" || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1) &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                         signature->size(), reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) == 1;
    if (!verified)
        return std::make_pair(700027, std::string("Client assertion failed signature validation."));

    const auto& claims = payload.get_object();
    if (text(claims, "aud") != audience)
        return std::make_pair(700212, "The client assertion's audience '" + text(claims, "aud") +
                                          "' is not the token endpoint " + std::string(audience) + ".");
    if (text(claims, "iss") != client_id || text(claims, "sub") != client_id)
        return std::make_pair(700023, std::string("Client assertion audience claim does not match "
                                                  "Realm issuer or subject is not the client id."));
    const auto* exp = claims.if_contains("exp");
    const auto* nbf = claims.if_contains("nbf");
    const std::int64_t now = now_seconds();
    if (!exp || !exp->is_int64() || exp->get_int64() <= now ||
        (nbf && (!nbf->is_int64() || nbf->get_int64() > now + 300)))
        return std::make_pair(700024, std::string("Client assertion is not within its valid time range."));
    if (text(claims, "jti").empty())
        return invalid;
    return std::nullopt;
}

HttpResponse token_endpoint(State& state, Counters& counters, const HttpRequest& request,
                            const std::string& tenant)
{
    const auto fail = [&](unsigned status, std::string error, std::string description, int code) {
        counters.add("azure.token_errors");
        return aad_error(status, std::move(error), std::move(description), code);
    };
    const auto type = request.header("Content-Type").value_or("");
    if (type.substr(0, 33) != "application/x-www-form-urlencoded")
        return fail(400, "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: "
                    "'grant_type'.",
                    900144);
    auto form = parse_form(request.body);
    for (const char* field : {"grant_type", "client_id", "scope"})
        if (form[field].empty())
            return fail(400, "invalid_request",
                        std::string("AADSTS900144: The request body must contain the following "
                                    "parameter: '") + field + "'.",
                        900144);
    if (form["grant_type"] != "client_credentials")
        return fail(400, "unsupported_grant_type",
                    "AADSTS70003: The app requested an unsupported grant type '" + form["grant_type"] + "'.",
                    70003);
    const std::string& scope = form["scope"];
    const std::string suffix = "/.default";
    if (scope.size() <= suffix.size() || scope.compare(scope.size() - suffix.size(), suffix.size(), suffix) != 0)
        return fail(400, "invalid_scope",
                    "AADSTS1002012: The provided value for scope " + scope +
                        " is not valid. Client credential flows must have a scope value with "
                        "/.default suffixed to the resource identifier (application ID URI).",
                    1002012);
    const std::string& client_id = form["client_id"];
    const auto found = state.principals.find(client_id);
    if (found == state.principals.end() || found->second.managed_identity ||
        found->second.tenants.count(tenant) == 0)
        return fail(400, "unauthorized_client",
                    "AADSTS700016: Application with identifier '" + client_id +
                        "' was not found in the directory '" + tenant + "'.",
                    700016);
    const Principal& principal = found->second;

    const std::string& assertion = form["client_assertion"];
    if (!principal.secret.empty()) {
        if (form["client_secret"].empty())
            return fail(401, "invalid_client",
                        "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is "
                        "required for the 'client_credentials' grant type.",
                        7000216);
        if (form["client_secret"] != principal.secret)
            return fail(401, "invalid_client",
                        "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                        "sent in the request is the client secret value, not the client secret "
                        "ID, for a secret added to app '" + client_id + "'.",
                        7000215);
    } else if (form["client_assertion_type"] != jwt_bearer || assertion.empty()) {
        return fail(401, "invalid_client",
                    "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required "
                    "for the 'client_credentials' grant type.",
                    7000216);
    } else if (!principal.federated_token.empty()) {
        if (assertion != principal.federated_token)
            return fail(401, "invalid_client",
                        "AADSTS700213: No matching federated identity record found for presented "
                        "assertion.",
                        700213);
    } else {
        const std::string audience = "https://" + std::string(request.header("Host").value_or("")) +
                                     "/" + tenant + "/oauth2/v2.0/token";
        if (auto problem = check_assertion(principal, client_id, audience, assertion))
            return fail(401, "invalid_client",
                        "AADSTS" + std::to_string(problem->first) + ": " + problem->second,
                        problem->first);
    }
    counters.add("azure.tokens_issued");
    const std::string token = state.issue(client_id, tenant, scope.substr(0, scope.size() - suffix.size()));
    return HttpResponse::json(200, json::object{{"token_type", "Bearer"},
                                                {"expires_in", 3599},
                                                {"ext_expires_in", 3599},
                                                {"access_token", token}});
}

// The managed identity a request names: client_id, or the system-assigned one.
std::optional<std::string> identity_of(const State& state, const HttpRequest& request)
{
    const std::string name(request.query_param("client_id").value_or("system"));
    const auto found = state.principals.find(name);
    if (found == state.principals.end() || !found->second.managed_identity)
        return std::nullopt;
    return name;
}

HttpResponse imds_error(std::string description)
{
    return HttpResponse::json(400, json::object{{"error", "invalid_request"},
                                                {"error_description", std::move(description)}});
}

HttpResponse imds(State& state, Counters& counters, const HttpRequest& request)
{
    if (request.header("Metadata") != std::optional<std::string_view>("true"))
        return imds_error("Required metadata header not specified");
    if (!request.query_param("api-version"))
        return imds_error("Required query variable 'api-version' is missing");
    const auto resource = request.query_param("resource");
    if (!resource || resource->empty())
        return imds_error("Required query variable 'resource' is missing");
    if (request.query_param("object_id") || request.query_param("msi_res_id"))
        return imds_error("fake_cloud: object_id and msi_res_id are not implemented");
    const auto identity = identity_of(state, request);
    if (!identity)
        return imds_error("Identity not found");
    counters.add("azure.imds_tokens");
    const std::int64_t now = now_seconds();
    return HttpResponse::json(
        200, json::object{{"access_token", state.issue(*identity, state.tenant, std::string(*resource))},
                          {"refresh_token", ""},
                          {"expires_in", "86399"},
                          {"expires_on", std::to_string(now + 86399)},
                          {"not_before", std::to_string(now - 300)},
                          {"resource", std::string(*resource)},
                          {"token_type", "Bearer"}});
}

HttpResponse app_service(State& state, Counters& counters, const HttpRequest& request)
{
    const auto fail = [](unsigned status, std::string message) {
        return HttpResponse::json(status, json::object{{"statusCode", status}, {"message", message}});
    };
    if (request.header("X-IDENTITY-HEADER") != std::optional<std::string_view>(state.identity_header))
        return fail(401, "The X-IDENTITY-HEADER header is missing or wrong");
    if (request.query_param("api-version") != std::optional<std::string_view>("2019-08-01"))
        return fail(400, "fake_cloud: only api-version 2019-08-01 is implemented");
    const auto resource = request.query_param("resource");
    if (!resource || resource->empty())
        return fail(400, "The resource query parameter is required");
    const auto identity = identity_of(state, request);
    if (!identity)
        return fail(400, "No managed identity found for the specified client id");
    counters.add("azure.app_service_tokens");
    return HttpResponse::json(
        200, json::object{{"access_token", state.issue(*identity, state.tenant, std::string(*resource))},
                          {"expires_on", std::to_string(now_seconds() + 86399)},
                          {"resource", std::string(*resource)},
                          {"token_type", "Bearer"},
                          {"client_id", *identity}});
}

} // namespace

std::optional<std::string> load_certificate(const std::filesystem::path& file, std::string& der,
                                            std::string& x5t)
{
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const std::string pem = text.str();
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                  BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                     X509_free);
    if (!in || !cert)
        return "cannot read a PEM certificate from " + file.string();
    unsigned char* out = nullptr;
    const int length = i2d_X509(cert.get(), &out);
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(length));
    OPENSSL_free(out);
    x5t = sha_b64url(der, EVP_sha1());
    return std::nullopt;
}

void add_identity_routes(const std::shared_ptr<State>& state, VendorSetup& setup)
{
    Counters& counters = setup.counters;
    // POST /{tenant}/oauth2/v2.0/token
    setup.routes.add(Listener::https, "POST", "/",
                     [state, &counters](const HttpRequest& request) -> std::optional<HttpResponse> {
                         const std::string_view path = request.path;
                         const std::string_view suffix = "/oauth2/v2.0/token";
                         if (path.size() <= suffix.size() + 1 ||
                             path.substr(path.size() - suffix.size()) != suffix)
                             return std::nullopt;
                         const std::string tenant(path.substr(1, path.size() - suffix.size() - 1));
                         if (tenant.find('/') != std::string::npos)
                             return std::nullopt;
                         return token_endpoint(*state, counters, request, tenant);
                     });
    setup.routes.add(Listener::http, "GET", "/metadata/identity/oauth2/token",
                     [state, &counters](const HttpRequest& request) -> std::optional<HttpResponse> {
                         return imds(*state, counters, request);
                     });
    if (!state->identity_header.empty())
        setup.routes.add(Listener::http, "GET", "/msi/token",
                         [state, &counters](const HttpRequest& request) -> std::optional<HttpResponse> {
                             return app_service(*state, counters, request);
                         });
}

} // namespace secrun::fakes::azure
