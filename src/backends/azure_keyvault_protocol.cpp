// Key Vault's pure protocol parts: secret names, clouds, the 401 challenge,
// and the bodies of its answers.
#include "backends/azure_keyvault.hpp"

#include "auth/wiped_json.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <map>

namespace secrun::backends::azure_keyvault {
namespace json = boost::json;
using util::str_cat;

namespace {

std::string_view string_at(const json::object& object, std::string_view key)
{
    const auto* value = object.if_contains(key);
    if (value == nullptr || !value->is_string())
        return {};
    return std::string_view(value->get_string().data(), value->get_string().size());
}

std::string bounded_line(std::string_view text, std::size_t max)
{
    text = util::trim(text.substr(0, text.find_first_of("\r\n")));
    std::string out;
    for (const char c : text) {
        if (out.size() >= max)
            return out + "...";
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    return out;
}

struct KnownCloud {
    std::string_view suffix; // of the vault host, with its leading dot
    std::string_view scope;
    std::string_view authority_host;
};

constexpr std::array<KnownCloud, 3> clouds = {{
    {".vault.azure.net", "https://vault.azure.net/.default", "https://login.microsoftonline.com"},
    {".vault.azure.cn", "https://vault.azure.cn/.default", "https://login.chinacloudapi.cn"},
    {".vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net/.default",
     "https://login.microsoftonline.us"},
}};

bool ends_with(std::string_view text, std::string_view suffix) noexcept
{
    return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_name_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_known_vault_host(std::string_view host) noexcept
{
    for (const auto& cloud : clouds)
        if (ends_with(host, cloud.suffix))
            return true;
    return false;
}

} // namespace

Cloud cloud_for_host(std::string_view host)
{
    const std::string lower = util::to_lower(host);
    for (const auto& cloud : clouds)
        if (ends_with(lower, cloud.suffix))
            return {std::string(cloud.scope), std::string(cloud.authority_host)};
    return {std::string(clouds[0].scope), std::string(clouds[0].authority_host)};
}

bool is_loopback_host(std::string_view host) noexcept
{
    if (host == "localhost" || host == "::1")
        return true;
    // 127.0.0.0/8 as a dotted literal only: "127.example.com" is a name.
    if (host.substr(0, 4) != "127.")
        return false;
    const auto parts = util::split(host, '.');
    return parts.size() == 4 && std::all_of(parts.begin(), parts.end(), [](std::string_view part) {
               return !part.empty() && part.size() <= 3 &&
                      part.find_first_not_of("0123456789") == std::string_view::npos;
           });
}

Result<SecretTarget> parse_key(std::string_view key)
{
    SecretTarget target;
    std::string_view name = key;
    if (const auto slash = key.find('/'); slash != std::string_view::npos) {
        const std::string_view host = key.substr(0, slash);
        name = key.substr(slash + 1);
        auto url = https::Url::parse(str_cat("https://", host));
        if (!url || url->target != "/" ||
            (!is_known_vault_host(url->host) && !is_loopback_host(url->host)))
            return Error(Errc::manifest,
                         str_cat(util::quoted(key), " names the vault ", util::quoted(host),
                                 ", which is not a Key Vault host (*.vault.azure.net, "
                                 "*.vault.azure.cn, *.vault.usgovcloudapi.net)"));
        target.vault = util::to_lower(host);
    }
    std::string mapped(name);
    for (char& c : mapped)
        if (c == '_')
            c = '-';
    const bool valid = !mapped.empty() && mapped.size() <= 127 &&
                       std::all_of(mapped.begin(), mapped.end(), is_name_char);
    if (!valid)
        return Error(Errc::manifest,
                     str_cat(util::quoted(key),
                             " cannot be a Key Vault secret name (1-127 letters, digits and "
                             "dashes; '_' is read as '-')"));
    target.name = std::move(mapped);
    return target;
}

Result<https::Url> parse_vault_url(std::string_view text, std::string_view what)
{
    const auto bad = [&] {
        return Error(Errc::config,
                     str_cat(what, " ", util::quoted(text),
                             " is not a vault URL (e.g. https://muse-vault.vault.azure.net/)"));
    };
    auto url = https::Url::parse(util::trim(text));
    if (!url || url->scheme != "https")
        return bad();
    while (url->target.size() > 1 && url->target.back() == '/')
        url->target.pop_back();
    if (url->target != "/")
        return bad();
    return url;
}

std::optional<Challenge> parse_challenge(std::string_view header)
{
    std::string_view rest = util::trim(header);
    constexpr std::string_view scheme = "bearer";
    if (rest.size() <= scheme.size() || !util::iequals(rest.substr(0, scheme.size()), scheme) ||
        rest[scheme.size()] != ' ')
        return std::nullopt;
    rest.remove_prefix(scheme.size());

    // key="value" or key=token pairs, separated by commas and/or spaces; a
    // word without '=' starts the next scheme's challenge, which ends ours.
    std::map<std::string, std::string, std::less<>> params;
    for (;;) {
        const auto start = rest.find_first_not_of(", ");
        if (start == std::string_view::npos)
            break;
        rest.remove_prefix(start);
        const auto key_end = rest.find_first_of("=, ");
        if (key_end == std::string_view::npos || rest[key_end] != '=')
            break;
        std::string key = util::to_lower(rest.substr(0, key_end));
        rest.remove_prefix(key_end + 1);
        std::string value;
        if (!rest.empty() && rest.front() == '"') {
            std::size_t i = 1;
            for (; i < rest.size() && rest[i] != '"'; ++i) {
                if (rest[i] == '\\' && i + 1 < rest.size())
                    ++i;
                value += rest[i];
            }
            if (i == rest.size())
                return std::nullopt; // unterminated quote
            rest.remove_prefix(i + 1);
        } else {
            const auto end = rest.find_first_of(", ");
            value = std::string(rest.substr(0, end));
            rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
        }
        params.try_emplace(std::move(key), std::move(value));
    }

    const auto param = [&](std::string_view name) -> std::string_view {
        const auto it = params.find(name);
        return it == params.end() ? std::string_view{} : std::string_view(it->second);
    };
    std::string_view authorization = param("authorization");
    if (authorization.empty())
        authorization = param("authorization_uri");
    if (authorization.empty())
        return std::nullopt;

    Challenge challenge;
    if (auto url = https::Url::parse(authorization)) {
        std::string_view path = url->target;
        path.remove_prefix(1);
        const std::string_view tenant = path.substr(0, path.find_first_of("/?"));
        const bool ok = !tenant.empty() && tenant.size() <= 256 &&
                        std::all_of(tenant.begin(), tenant.end(), [](char c) {
                            return is_name_char(c) || c == '.' || c == '_';
                        });
        if (ok)
            challenge.tenant = std::string(tenant);
    }
    std::string_view resource = param("resource");
    std::string from_scope;
    if (resource.empty()) {
        from_scope = std::string(param("scope"));
        constexpr std::string_view suffix = "/.default";
        if (ends_with(from_scope, suffix))
            from_scope.resize(from_scope.size() - suffix.size());
        resource = from_scope;
    }
    challenge.resource = std::string(resource);
    return challenge;
}

bool resource_matches(const https::Url& vault, std::string_view resource)
{
    auto url = https::Url::parse(resource);
    if (!url || url->host.empty())
        return false;
    if (ends_with(vault.host, str_cat(".", url->host)))
        return true;
    if (!is_loopback_host(vault.host))
        return false;
    auto scope = https::Url::parse(cloud_for_host(vault.host).scope);
    return scope && scope->host == url->host;
}

bool is_version(std::string_view version) noexcept
{
    return !version.empty() && version.size() <= 64 &&
           std::all_of(version.begin(), version.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
           });
}

KeyVaultError parse_error(std::string_view body)
{
    KeyVaultError out;
    boost::system::error_code ec;
    const json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object())
        return out;
    const auto* error = doc.get_object().if_contains("error");
    if (error == nullptr || !error->is_object())
        return out;
    out.code = bounded_line(string_at(error->get_object(), "code"), 100);
    out.message = bounded_line(string_at(error->get_object(), "message"), 300);
    const json::value* inner = error->get_object().if_contains("innererror");
    for (int depth = 0; inner != nullptr && inner->is_object() && depth < 8; ++depth) {
        if (const auto code = string_at(inner->get_object(), "code"); !code.empty())
            out.inner = bounded_line(code, 100);
        inner = inner->get_object().if_contains("innererror");
    }
    return out;
}

Result<SecretBundle> parse_secret_bundle(std::string_view body)
{
    const auto doc = auth::parse_json_wiped(body);
    if (!doc)
        return Error(Errc::bad_response, "the answer is not JSON");
    const auto* object = doc->if_object();
    const auto* value = object ? object->if_contains("value") : nullptr;
    if (value == nullptr || !value->is_string())
        return Error(Errc::bad_response, "the answer has no value (not a SecretBundle)");
    SecretBundle bundle;
    bundle.value = SecretString(std::string_view(value->get_string().data(), value->get_string().size()));
    const std::string_view id = string_at(*object, "id");
    if (const auto slash = id.rfind('/'); slash != std::string_view::npos && is_version(id.substr(slash + 1)))
        bundle.version = std::string(id.substr(slash + 1));
    return bundle;
}

} // namespace secrun::backends::azure_keyvault
