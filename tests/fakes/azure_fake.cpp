// The Azure fake: Key Vault (GET secret), Entra ID's token endpoint, IMDS and
// the App Service identity endpoint, as protocols/azure_doppler.md §1-2
// describe the real services.
//
// Scenario section ("vendors": {"azure": ...}):
//   {
//     "tenant": "tenant-1",                       // the vault's tenant (required)
//     "principals": {                             // who may get tokens
//       "client-1": {"secret": "s3cret"},         // client secret
//       "cert-app": {"certificate": "client-cert.pem"}, // a PEM file in the certs dir
//       "wi-app":   {"federated_token": "eyJ..."}, // workload identity assertion
//       "mi-app":   {"managed_identity": true},   // user-assigned (IMDS/App Service client_id)
//       "system":   {"managed_identity": true},   // the system-assigned identity
//       "x":        {"secret": "...", "tenants": ["tenant-1", "tenant-2"]}
//                                                 // default tenants: ["<tenant>"]
//     },
//     "readers": ["client-1"],                    // optional: who may read secrets (default all)
//     "identity_header": "hdr",                   // optional: enables App Service at /msi/token
//     "tokens": {"tok-cli": {"principal": "dev", "tenant": "tenant-1"}},
//                                                 // optional: pre-issued (a stub `az` prints them)
//     "secrets": {
//       "CH-HOST": "value",                       // one enabled version
//       "DB": {"versions": [{"id": "<32 hex>", "value": "old"},
//                           {"value": "new", "enabled": false}],  // last = current
//              "content_type": "application/json"},
//       "OFF": {"value": "x", "enabled": false}
//     }
//   }
//
// Key Vault (TLS port): GET /secrets/{name}[/][{version}]?api-version=...
// * No Authorization: 401 {"error":{"code":"Unauthorized","message":"AKV10000: ..."}} with
//   WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
//   resource="https://vault.azure.net" (quoted, ", "-separated, as the SDKs require).
//   Unknown token, wrong audience, wrong tenant: 401 with the same challenge.
// * A principal not in "readers": 403 ForbiddenByRbac. Disabled: 403 SecretDisabled.
//   Unknown name or version: 404 SecretNotFound. Bad name, missing api-version: 400.
// * 200: SecretBundle {value, id, attributes{enabled, created, updated, recoveryLevel}}.
// Counters: azure.secret_reads, azure.challenges, azure.kv_errors (403/404/400),
// azure.tokens_issued, azure.token_errors, azure.imds_tokens, azure.app_service_tokens.
// The AKV100xx codes other than AKV10000 are plausible, not confirmed.
#include "azure_fake.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace secrun::fakes::azure
{
namespace
{

namespace json = boost::json;

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string unexpected(std::string_view where, std::string_view key)
{
    return std::string(where) + ": unexpected key '" + std::string(key) + "'";
}

std::optional<std::string> load_principals(const json::value& value, const ServerInfo& server,
                                            State& state)
{
    if (!value.is_object())
        return std::string("principals: expected an object");
    for (const auto& entry : value.get_object()) {
        const std::string name(entry.key());
        const std::string where = "principals." + name;
        if (!entry.value().is_object())
            return where + ": expected an object";
        Principal p;
        p.tenants = {state.tenant};
        int kinds = 0;
        for (const auto& field : entry.value().get_object()) {
            const auto& v = field.value();
            if (field.key() == "secret" && v.is_string()) {
                p.secret = std::string(v.get_string());
                ++kinds;
            } else if (field.key() == "certificate" && v.is_string()) {
                if (auto error = load_certificate(server.certs_dir / std::string(v.get_string()),
                                                  p.certificate_der, p.x5t))
                    return where + ": " + *error;
                ++kinds;
            } else if (field.key() == "federated_token" && v.is_string()) {
                p.federated_token = std::string(v.get_string());
                ++kinds;
            } else if (field.key() == "managed_identity" && v.is_bool() && v.get_bool()) {
                p.managed_identity = true;
                ++kinds;
            } else if (field.key() == "tenants" && v.is_array()) {
                p.tenants.clear();
                for (const auto& t : v.get_array()) {
                    if (!t.is_string())
                        return where + ".tenants: expected strings";
                    p.tenants.insert(std::string(t.get_string()));
                }
            } else {
                return unexpected(where, field.key());
            }
        }
        if (kinds != 1)
            return where + ": needs exactly one of secret, certificate, federated_token, "
                           "managed_identity";
        state.principals[name] = std::move(p);
    }
    return std::nullopt;
}

Version load_version(const std::string& name, const json::object& o, std::size_t index,
                     std::optional<std::string>& error, const std::string& where)
{
    Version version;
    for (const auto& field : o) {
        if (field.key() == "value" && field.value().is_string())
            version.value = std::string(field.value().get_string());
        else if (field.key() == "id" && field.value().is_string())
            version.id = lower(field.value().get_string());
        else if (field.key() == "enabled" && field.value().is_bool())
            version.enabled = field.value().get_bool();
        else if (field.key() != "content_type" && field.key() != "versions")
            error = unexpected(where, field.key());
    }
    if (version.id.empty()) // a stable, 32-hex-digit id
        version.id = sha256_hex(name + "#" + std::to_string(index)).substr(0, 32);
    return version;
}

std::optional<std::string> load_secrets(const json::value& value, State& state)
{
    if (!value.is_object())
        return std::string("secrets: expected an object");
    for (const auto& entry : value.get_object()) {
        const std::string name(entry.key());
        const std::string where = "secrets." + name;
        Secret secret;
        secret.name = name;
        std::optional<std::string> error;
        if (entry.value().is_string()) {
            json::object o{{"value", entry.value()}};
            secret.versions.push_back(load_version(name, o, 0, error, where));
        } else if (entry.value().is_object()) {
            const auto& o = entry.value().get_object();
            if (const auto* ct = o.if_contains("content_type"); ct && ct->is_string())
                secret.content_type = std::string(ct->get_string());
            if (const auto* versions = o.if_contains("versions")) {
                if (!versions->is_array() || o.contains("value"))
                    return where + ": \"versions\" is an array, without \"value\" beside it";
                for (const auto& v : versions->get_array()) {
                    if (!v.is_object())
                        return where + ".versions: expected objects";
                    secret.versions.push_back(
                        load_version(name, v.get_object(), secret.versions.size(), error, where));
                }
            } else {
                secret.versions.push_back(load_version(name, o, 0, error, where));
            }
        } else {
            return where + ": expected a string or an object";
        }
        if (error)
            return error;
        if (secret.versions.empty())
            return where + ": no versions";
        state.secrets[lower(name)] = std::move(secret);
    }
    return std::nullopt;
}

HttpResponse kv_error(unsigned status, std::string code, std::string message,
                      std::string inner = {})
{
    json::object error{{"code", code}, {"message", message}};
    if (!inner.empty())
        error["innererror"] = json::object{{"code", inner}};
    return HttpResponse::json(status, json::object{{"error", std::move(error)}});
}

HttpResponse challenge(const State& state, Counters& counters, std::string message)
{
    counters.add("azure.challenges");
    HttpResponse r = kv_error(401, "Unauthorized", std::move(message));
    r.headers.emplace_back("WWW-Authenticate",
                           "Bearer authorization=\"https://login.microsoftonline.com/" + state.tenant +
                               "\", resource=\"" + std::string(vault_resource) + "\"");
    return r;
}

bool is_name(std::string_view name)
{
    return !name.empty() && name.size() <= 127 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
    });
}

HttpResponse get_secret(const State& state, Counters& counters, const HttpRequest& request)
{
    const auto fail = [&](unsigned status, std::string code, std::string message,
                          std::string inner = {}) {
        counters.add("azure.kv_errors");
        return kv_error(status, std::move(code), std::move(message), std::move(inner));
    };
    // /secrets/{name}, /secrets/{name}/, /secrets/{name}/{version}
    std::string_view rest = std::string_view(request.path).substr(std::string_view("/secrets/").size());
    const std::string name(rest.substr(0, rest.find('/')));
    std::string version;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos)
        version = std::string(rest.substr(slash + 1));
    if (!request.query_param("api-version"))
        return fail(400, "BadParameter", "The api-version query parameter is missing");

    const auto auth = request.header("Authorization");
    if (!auth)
        return challenge(state, counters, "AKV10000: Request is missing a Bearer or PoP token.");
    const std::string_view bearer = "Bearer ";
    const auto issued = auth->substr(0, bearer.size()) == bearer
                            ? state.tokens.find(std::string(auth->substr(bearer.size())))
                            : state.tokens.end();
    if (issued == state.tokens.end())
        return challenge(state, counters, "AKV10013: Invalid token.");
    if (issued->second.audience != vault_resource)
        return challenge(state, counters, "AKV10022: Invalid audience. Expected " +
                                              std::string(vault_resource) + ", found: " +
                                              issued->second.audience + ".");
    if (issued->second.tenant != state.tenant)
        return challenge(state, counters,
                         "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/" +
                             state.tenant + "/, found: https://sts.windows.net/" +
                             issued->second.tenant + "/.");
    if (state.readers && state.readers->count(issued->second.principal) == 0)
        return fail(403, "Forbidden",
                    "Caller is not authorized to perform action on resource.\r\nIf role "
                    "assignments, deny assignments or role definitions were changed recently, "
                    "please observe propagation time.\r\nCaller: appid=" +
                        issued->second.principal + "\r\nAction: "
                        "'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
                    "ForbiddenByRbac");
    if (!is_name(name) || (!version.empty() && !is_name(version)))
        return fail(400, "BadParameter", "The request URI contains an invalid name: " + name);

    const std::string id = version.empty() ? name : name + "/" + version;
    const auto found = state.secrets.find(lower(name));
    const auto not_found = [&] {
        return fail(404, "SecretNotFound",
                    "A secret with (name/id) " + id +
                        " was not found in this key vault. If you recently deleted this secret you "
                        "may be able to recover it using the correct recovery command. For help "
                        "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182");
    };
    if (found == state.secrets.end())
        return not_found();
    const Secret& secret = found->second;
    const Version* chosen = &secret.versions.back();
    if (!version.empty()) {
        const auto it = std::find_if(secret.versions.begin(), secret.versions.end(),
                                     [&](const Version& v) { return v.id == lower(version); });
        if (it == secret.versions.end())
            return not_found();
        chosen = &*it;
    }
    if (!chosen->enabled)
        return fail(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                    "SecretDisabled");

    counters.add("azure.secret_reads");
    const std::string host(request.header("Host").value_or("vault.azure.net"));
    json::object attributes{{"enabled", true},
                            {"created", 1493938410},
                            {"updated", 1493938410},
                            {"recoveryLevel", "Recoverable+Purgeable"},
                            {"recoverableDays", 90}};
    json::object bundle{{"value", chosen->value},
                        {"id", "https://" + host + "/secrets/" + secret.name + "/" + chosen->id},
                        {"attributes", std::move(attributes)},
                        {"tags", json::object{}}};
    if (!secret.content_type.empty())
        bundle["contentType"] = secret.content_type;
    return HttpResponse::json(200, bundle);
}

std::optional<std::string> setup_azure(VendorSetup& setup)
{
    auto state = std::make_shared<State>();
    const auto& section = setup.section;
    if (section.empty())
        return std::nullopt; // not used by this scenario
    for (const auto& entry : section) {
        const auto key = entry.key();
        if (key != "tenant" && key != "principals" && key != "readers" && key != "identity_header" &&
            key != "tokens" && key != "secrets")
            return unexpected("azure", key);
    }
    const auto* tenant = section.if_contains("tenant");
    if (tenant == nullptr || !tenant->is_string() || tenant->get_string().empty())
        return std::string("azure.tenant: required (the vault's tenant)");
    state->tenant = std::string(tenant->get_string());
    if (const auto* principals = section.if_contains("principals"))
        if (auto error = load_principals(*principals, setup.server, *state))
            return "azure." + *error;
    if (const auto* readers = section.if_contains("readers")) {
        if (!readers->is_array())
            return std::string("azure.readers: expected an array");
        state->readers.emplace();
        for (const auto& r : readers->get_array())
            if (r.is_string())
                state->readers->insert(std::string(r.get_string()));
    }
    if (const auto* header = section.if_contains("identity_header"); header && header->is_string())
        state->identity_header = std::string(header->get_string());
    if (const auto* tokens = section.if_contains("tokens")) {
        if (!tokens->is_object())
            return std::string("azure.tokens: expected an object");
        for (const auto& t : tokens->get_object()) {
            const auto* o = t.value().if_object();
            const auto* principal = o ? o->if_contains("principal") : nullptr;
            const auto* in = o ? o->if_contains("tenant") : nullptr;
            if (!principal || !principal->is_string() || !in || !in->is_string() || o->size() != 2)
                return "azure.tokens." + std::string(t.key()) + ": needs \"principal\" and \"tenant\"";
            state->tokens[std::string(t.key())] = {std::string(principal->get_string()),
                                                   std::string(in->get_string()),
                                                   std::string(vault_resource)};
        }
    }
    if (const auto* secrets = section.if_contains("secrets"))
        if (auto error = load_secrets(*secrets, *state))
            return "azure." + *error;

    Counters& counters = setup.counters; // outlives the routes: both belong to the server
    setup.routes.add(Listener::https, "GET", "/secrets/",
                     [state, &counters](const HttpRequest& request) -> std::optional<HttpResponse> {
                         return get_secret(*state, counters, request);
                     });
    add_identity_routes(state, setup);
    return std::nullopt;
}

const VendorRegistration registration{"azure", &setup_azure};

} // namespace

std::string State::issue(const std::string& principal, const std::string& in_tenant,
                         const std::string& audience)
{
    std::string token = "fake-aad-token-" + std::to_string(next_token++);
    tokens[token] = {principal, in_tenant, audience};
    return token;
}

std::int64_t now_seconds()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::map<std::string, std::string> parse_form(std::string_view body)
{
    std::map<std::string, std::string> out;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view field = body.substr(0, amp);
        const auto eq = field.find('=');
        out[percent_decode(field.substr(0, eq), true)] =
            eq == std::string_view::npos ? std::string() : percent_decode(field.substr(eq + 1), true);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    }
    return out;
}

} // namespace secrun::fakes::azure
