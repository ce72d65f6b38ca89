// The azure_keyvault backend: GET {vault}/secrets/{name}[/{version}] with a
// bearer token from the Azure credential chain.
//
// Tokens are asked for up front (prepare()), for the vault's cloud scope and
// the configured tenant, as the protocol digest recommends. Key Vault's 401
// challenge is answered only when it names another tenant (a developer's
// `az` defaulting to a different tenant than the vault's): the token is
// requested again for that tenant, once for all secrets, after checking that
// the challenge's resource belongs to the vault's domain as the SDKs do.
#include "backends/azure_keyvault.hpp"

#include "auth/wiped_json.hpp"
#include "log.hpp"
#include "util/strings.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <map>
#include <set>
#include <tuple>

namespace secrun::backends {
namespace asio = boost::asio;
namespace json = boost::json;
using util::str_cat;
using namespace azure_keyvault;

namespace {

constexpr auto use_awaitable = asio::use_awaitable;
constexpr std::size_t body_limit = 1 << 20; // a value is at most 25 KB, escaped up to 6x

// " (code: message)", " (code)", or "".
std::string in_parens(std::string_view code, std::string_view message)
{
    if (code.empty() && message.empty())
        return {};
    return str_cat(" (", code, !code.empty() && !message.empty() ? ": " : "", message, ")");
}

Error token_rejected(std::string_view what, const KeyVaultError& error)
{
    return Error(Errc::auth, str_cat(what, ": the vault rejected the token",
                                     in_parens(error.code.empty() ? "HTTP 401" : error.code,
                                               error.message)));
}

auth::WallClock wall_clock(const Context& context)
{
    if (context.now)
        return context.now;
    return [] { return std::chrono::system_clock::now(); };
}

class KeyVaultBackend final : public Backend {
public:
    KeyVaultBackend(Context& context, auth::AzureCredentialOptions options)
        : http_(context.http),
          chain_(context.env, context.http, wall_clock(context), options)
    {
        if (const auto url = context.env.get_nonempty("AZURE_KEYVAULT_URL")) {
            auto parsed = parse_vault_url(*url, "AZURE_KEYVAULT_URL");
            if (parsed)
                default_vault_ = std::move(*parsed);
            else
                default_error_ = parsed.error();
        } else {
            default_error_ = Error(Errc::config, "AZURE_KEYVAULT_URL is not set (the vault's URL, "
                                                 "e.g. https://muse-vault.vault.azure.net/)");
        }
    }

    std::string_view name() const noexcept override { return "azure_keyvault"; }

    std::optional<std::string> check_key(std::string_view key) const override
    {
        auto target = parse_key(key);
        if (!target)
            return target.error().message;
        return std::nullopt;
    }

    std::vector<std::string> credential_variables() const override
    {
        return chain_.credential_variables();
    }

    asio::awaitable<Result<void>> prepare(std::vector<SecretId> wanted) override;
    asio::awaitable<Result<Fetched>> fetch(SecretId id) override;

private:
    struct Vault {
        https::Url url;
        std::string origin; // "https://muse-vault.vault.azure.net", in messages
        Cloud cloud;
        std::string tenant; // named by a challenge; empty: the credential's own
    };
    // One token request shared by every fetch that needs it: the first one
    // asks, the others wait on `done`, a timer in the asking coroutine's
    // frame that is cancelled when the answer is in. (Kept in the frame, not
    // here, so that no I/O object outlives the resolver's event loop.)
    struct TokenSlot {
        std::optional<Result<auth::AzureToken>> result;
        asio::steady_timer* done = nullptr;
    };
    struct ReleaseSlot {
        TokenSlot& slot;
        ~ReleaseSlot() { slot.done = nullptr; }
    };

    Result<Vault*> vault_for(const SecretTarget& target);
    asio::awaitable<Result<auth::AzureToken>> token(Vault* vault);
    asio::awaitable<Result<https::Response>> get(https::Url url, SecretString token, std::string what);
    asio::awaitable<Result<auth::AzureToken>> answer_challenge(Vault* vault,
                                                               https::Response response,
                                                               std::string token_tenant,
                                                               std::string what);

    https::Client& http_;
    auth::AzureCredentialChain chain_;
    std::optional<https::Url> default_vault_;
    Error default_error_;
    std::map<std::string, Vault> vaults_;                                // by origin
    std::map<std::pair<std::string, std::string>, TokenSlot> tokens_; // by scope, tenant
};

Result<KeyVaultBackend::Vault*> KeyVaultBackend::vault_for(const SecretTarget& target)
{
    https::Url url;
    if (target.vault.empty()) {
        if (!default_vault_)
            return default_error_;
        url = *default_vault_;
    } else {
        auto parsed = parse_vault_url(str_cat("https://", target.vault), "the vault");
        if (!parsed)
            return parsed.error();
        url = std::move(*parsed);
    }
    std::string origin = url.origin();
    auto [it, inserted] = vaults_.try_emplace(origin);
    if (inserted) {
        it->second.cloud = cloud_for_host(url.host);
        it->second.url = std::move(url);
        it->second.origin = std::move(origin);
    }
    return &it->second;
}

asio::awaitable<Result<auth::AzureToken>> KeyVaultBackend::token(Vault* vault)
{
    // `vault` points into vaults_, which lives as long as the backend.
    TokenSlot& slot = tokens_[{vault->cloud.scope, vault->tenant}];
    if (!slot.result && slot.done) {
        auto [ignored] = co_await slot.done->async_wait(asio::as_tuple(use_awaitable));
        (void)ignored; // operation_aborted: the answer is in
    }
    if (slot.result)
        co_return *slot.result;

    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer done(executor, asio::steady_timer::time_point::max());
    slot.done = &done;
    const ReleaseSlot release{slot};
    auth::AzureTokenRequest request{vault->cloud.scope, vault->tenant, vault->cloud.authority_host};
    Result<auth::AzureToken> result = co_await chain_.get_token(std::move(request));
    // Errors are kept too: a failing credential is not asked again per secret.
    slot.result = result;
    done.cancel();
    co_return result;
}

asio::awaitable<Result<void>> KeyVaultBackend::prepare(std::vector<SecretId> wanted)
{
    std::set<Vault*> vaults;
    std::map<std::tuple<Vault*, std::string, std::string>, std::string> keys; // -> key as written
    for (const auto& id : wanted) {
        auto target = parse_key(id.key);
        if (!target)
            continue; // check_key() has reported it
        auto vault = vault_for(*target);
        if (!vault)
            co_return vault.error();
        vaults.insert(*vault);
        // Two spellings of one secret work, but are probably a mistake.
        const auto [it, inserted] =
            keys.try_emplace({*vault, util::to_lower(target->name), id.version}, id.key);
        if (!inserted && it->second != id.key)
            log::warn(str_cat(util::quoted(it->second), " and ", util::quoted(id.key),
                              " name the same Key Vault secret ", util::quoted(target->name),
                              " (names are case-insensitive and '_' is read as '-')"));
    }
    // One token per cloud (normally exactly one), shared by every fetch.
    for (Vault* vault : vaults) {
        Result<auth::AzureToken> got = co_await token(vault);
        if (!got)
            co_return got.error();
    }
    co_return Result<void>{};
}

asio::awaitable<Result<https::Response>> KeyVaultBackend::get(https::Url url, SecretString token,
                                                              std::string what)
{
    https::Request request;
    request.url = std::move(url);
    request.headers = {{"Authorization", str_cat("Bearer ", token.reveal())},
                       {"Accept", "application/json"}};
    request.body_limit = body_limit;
    request.what = std::move(what);
    Result<https::Response> response = co_await http_.send(std::move(request));
    co_return response;
}

asio::awaitable<Result<auth::AzureToken>>
KeyVaultBackend::answer_challenge(Vault* vault, https::Response response, std::string token_tenant,
                                  std::string what)
{
    const Error rejected = token_rejected(what, parse_error(response.body));
    const auto header = response.header("WWW-Authenticate");
    const auto challenge = header ? parse_challenge(*header) : std::nullopt;
    if (!challenge)
        co_return rejected;
    if (!resource_matches(vault->url, challenge->resource))
        co_return Error(Errc::auth,
                        str_cat(what, ": the vault's challenge asks for a token for ",
                                util::quoted(challenge->resource), ", which is not the domain of ",
                                vault->url.host, "; no token is sent for it"));
    // Only another tenant is worth a new token; the same one would be refused again.
    if (challenge->tenant.empty() || util::iequals(challenge->tenant, token_tenant))
        co_return rejected;
    vault->tenant = util::to_lower(challenge->tenant);
    Result<auth::AzureToken> renewed = co_await token(vault);
    if (!renewed)
        co_return with_context(renewed.error(), what);
    co_return renewed;
}

asio::awaitable<Result<Fetched>> KeyVaultBackend::fetch(SecretId id)
{
    auto target = parse_key(id.key);
    if (!target)
        co_return target.error();
    if (!id.stage.empty())
        co_return Error(Errc::manifest, "?stage= is an AWS Secrets Manager option; Key Vault pins "
                                        "a version with ?version=");
    if (!id.version.empty() && !is_version(id.version))
        co_return Error(Errc::manifest, str_cat("version ", util::quoted(id.version),
                                                " is not a Key Vault secret version (letters and "
                                                "digits)"));
    auto found = vault_for(*target);
    if (!found)
        co_return found.error();
    Vault* vault = *found;
    const std::string what =
        str_cat("secret ", util::quoted(target->name),
                id.version.empty() ? "" : str_cat(" version ", util::quoted(id.version)), " in ",
                vault->origin);
    https::Url url = vault->url;
    url.target = str_cat("/secrets/", target->name, id.version.empty() ? "" : "/", id.version,
                         "?api-version=", api_version);

    Result<auth::AzureToken> bearer = co_await token(vault);
    if (!bearer)
        co_return with_context(bearer.error(), what);
    Result<https::Response> response = co_await get(url, bearer->access_token, what);
    if (!response)
        co_return with_context(response.error(), what);
    if (response->status == 401) {
        Result<auth::AzureToken> renewed =
            co_await answer_challenge(vault, std::move(*response), bearer->tenant, what);
        if (!renewed)
            co_return renewed.error();
        response = co_await get(url, renewed->access_token, what);
        if (!response)
            co_return with_context(response.error(), what);
    }

    const https::Response& r = *response;
    if (r.status == 200) {
        Result<SecretBundle> bundle = parse_secret_bundle(r.body);
        if (!bundle)
            co_return with_context(bundle.error(), what);
        Fetched fetched;
        fetched.value = std::move(bundle->value);
        fetched.version = std::move(bundle->version);
        fetched.source = vault->origin;
        co_return fetched;
    }
    const KeyVaultError error = parse_error(r.body);
    const std::string status = std::to_string(r.status);
    const std::string code = error.code.empty() ? str_cat("HTTP ", status) : error.code;
    switch (r.status) {
    case 404:
        co_return Error(Errc::not_found, str_cat(what, ": not found (", code, ")"));
    case 403:
        if (error.inner == "SecretDisabled")
            co_return Error(Errc::auth, str_cat(what, ": disabled (SecretDisabled)"));
        co_return Error(Errc::auth,
                        str_cat(what, ": access denied",
                                in_parens(error.inner.empty() ? code : error.inner, error.message)));
    case 401:
        co_return token_rejected(what, error);
    case 429:
        co_return Error(Errc::unavailable,
                        str_cat(what, ": throttled, still after retries", in_parens(code, error.message)));
    case 400:
        co_return Error(Errc::bad_response,
                        str_cat(what, ": bad request", in_parens(code, error.message)));
    default:
        break;
    }
    if (r.status >= 500)
        co_return Error(Errc::unavailable, str_cat(what, ": Key Vault answered HTTP ", status,
                                                   in_parens(error.code, error.message)));
    co_return Error(Errc::bad_response, str_cat(what, ": unexpected HTTP ", status,
                                                in_parens(error.code, error.message)));
}

} // namespace

Result<std::unique_ptr<Backend>> make_azure_keyvault_backend(Context& context,
                                                             auth::AzureCredentialOptions options)
{
    return std::unique_ptr<Backend>(std::make_unique<KeyVaultBackend>(context, options));
}

} // namespace secrun::backends
