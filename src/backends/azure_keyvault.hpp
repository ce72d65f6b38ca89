// Azure Key Vault: the backend's factory, and the protocol's pure parts
// (secret names, clouds and token scopes, the 401 challenge) on their own
// so that tests can reach them.
//
// Keys: "CH_HOST" is looked up as the secret CH-HOST (Key Vault names allow
// only letters, digits and dashes, and are case-insensitive). A key may name
// its own vault: "other-vault.vault.azure.net/db-password" (hosts under a
// Key Vault DNS suffix, or loopback for tests); otherwise AZURE_KEYVAULT_URL
// is the vault. ?version=ID pins a version.
#pragma once

#include "auth/azure_credentials.hpp"
#include "backends/backend.hpp"
#include "https/client.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::backends {

namespace azure_keyvault {

/// The data-plane API version sent on every request (the current stable one).
inline constexpr std::string_view api_version = "2025-07-01";

struct Cloud {
    std::string scope;          // "https://vault.azure.net/.default"
    std::string authority_host; // "https://login.microsoftonline.com"
};

/// The cloud of a vault host, by its DNS suffix (vault.azure.net,
/// vault.azure.cn, vault.usgovcloudapi.net); loopback and unknown hosts get
/// the public cloud.
[[nodiscard]] Cloud cloud_for_host(std::string_view host);

/// 127.0.0.0/8, ::1 or localhost.
[[nodiscard]] bool is_loopback_host(std::string_view host) noexcept;

struct SecretTarget {
    std::string vault; // "host[:port]" when the key names a vault; empty: AZURE_KEYVAULT_URL
    std::string name;  // the Key Vault secret name ("CH-HOST")
};

/// Maps a key to the secret it names ('_' becomes '-'). Errc::manifest with
/// a message quoting the key when it cannot be a Key Vault name (letters,
/// digits and dashes, 1-127 characters) or names a host that is not a vault.
[[nodiscard]] Result<SecretTarget> parse_key(std::string_view key);

/// A vault URL: https, no path ("https://muse-vault.vault.azure.net/").
/// Errc::config naming `what` (the variable) otherwise.
[[nodiscard]] Result<https::Url> parse_vault_url(std::string_view text, std::string_view what);

struct Challenge {
    std::string tenant;   // first path segment of authorization / authorization_uri
    std::string resource; // resource, else scope without "/.default"
};

/// Reads `Bearer authorization="https://login.microsoftonline.com/TENANT",
/// resource="https://vault.azure.net"` (authorization_uri and scope too).
/// nullopt when it is not a Bearer challenge with an authorization URL.
[[nodiscard]] std::optional<Challenge> parse_challenge(std::string_view www_authenticate);

/// The SDKs' check before answering a challenge: the vault's host must end
/// with "." + the resource's host (a loopback vault, which gets the public
/// scope, accepts that scope's resource only).
[[nodiscard]] bool resource_matches(const https::Url& vault, std::string_view resource);

/// A secret version as Key Vault writes it (32 hex digits today): letters
/// and digits, 1-64 of them.
[[nodiscard]] bool is_version(std::string_view version) noexcept;

/// What a Key Vault error body says ({"error": {"code", "message",
/// "innererror": {"code", "innererror": ...}}}), each part one line of
/// bounded length without control characters; parts it lacks are empty.
struct KeyVaultError {
    std::string code;    // error.code
    std::string inner;   // the innermost innererror.code
    std::string message; // error.message, first line, bounded
};
[[nodiscard]] KeyVaultError parse_error(std::string_view body);

/// A 200 answer's SecretBundle: its value, and the version named by the last
/// segment of its id (https://{vault}/secrets/{name}/{version}; empty when
/// that is not a version). Errc::bad_response saying "the answer is not
/// JSON" or "the answer has no value (not a SecretBundle)" otherwise. The
/// JSON is parsed into wiped storage.
struct SecretBundle {
    SecretString value;
    std::string version;
};
[[nodiscard]] Result<SecretBundle> parse_secret_bundle(std::string_view body);

} // namespace azure_keyvault

/// The azure_keyvault backend: one token per run (per cloud and tenant),
/// obtained in prepare() from the Azure credential chain; one GET per
/// secret. Never fails itself: configuration errors (AZURE_KEYVAULT_URL)
/// are reported by prepare() and fetch().
[[nodiscard]] Result<std::unique_ptr<Backend>>
make_azure_keyvault_backend(Context& context, auth::AzureCredentialOptions options = {});

} // namespace secrun::backends
