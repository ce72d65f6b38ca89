// Internal to the Azure credential chain (auth/azure_*.cpp): one coroutine
// per token source, and the helpers they share. Not for use elsewhere.
#pragma once

#include "auth/azure_credentials.hpp"
#include "https/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace secrun::auth::azure {

// What every source may read. Copied into each coroutine; the referents
// outlive the chain's calls (see AzureCredentialChain).
struct SourceContext {
    const EnvMap* env = nullptr;
    https::Client* http = nullptr;
    WallClock now;
    AzureCredentialOptions options;
};

struct Acquired {
    AzureToken token;
    std::string source;                 // "Azure managed identity (IMDS)"
    std::vector<std::string> variables; // the credential variables it used
};

// Not configured or not reachable here: the chain tries the next source and
// lists `reason` if none works ("AZURE_FEDERATED_TOKEN_FILE not set").
struct Unavailable {
    std::string reason;
};

// A token, "try the next one", or an error that ends the chain.
using Outcome = std::variant<Acquired, Unavailable, Error>;

[[nodiscard]] boost::asio::awaitable<Outcome> environment_credential(SourceContext ctx,
                                                                     AzureTokenRequest request);
[[nodiscard]] boost::asio::awaitable<Outcome> workload_identity_credential(SourceContext ctx,
                                                                           AzureTokenRequest request);
[[nodiscard]] boost::asio::awaitable<Outcome> managed_identity_credential(SourceContext ctx,
                                                                         AzureTokenRequest request);
[[nodiscard]] boost::asio::awaitable<Outcome> azure_cli_credential(SourceContext ctx,
                                                                   AzureTokenRequest request);

// --- helpers (auth/azure_token_json.cpp) ---

// The v1 resource managed identity and `az` take: the scope without "/.default".
[[nodiscard]] std::string resource_from_scope(std::string_view scope);

// Reads a token endpoint's JSON answer (Entra, IMDS, App Service): access_token,
// and expires_on (epoch seconds) or expires_in, each a number or a numeric
// string. `who` names the endpoint in errors (Errc::bad_response).
[[nodiscard]] Result<AzureToken> parse_token_response(std::string_view body,
                                                      std::chrono::system_clock::time_point now,
                                                      std::string_view who);

// Reads what `az account get-access-token --output json` prints: accessToken,
// and expires_on (epoch seconds, newer CLIs) or expiresOn (local time).
[[nodiscard]] Result<AzureToken> parse_cli_output(std::string_view out);

// "invalid_client: AADSTS7000215: Invalid client secret provided." from an
// error body ({"error","error_description"}, {"error":{"code","message"}} or
// {"message"}); its first line, bounded. Empty when the body says nothing usable.
[[nodiscard]] std::string describe_error_body(std::string_view body);

// The first line of `text`, at most `max` characters ("..." when cut).
[[nodiscard]] std::string first_line(std::string_view text, std::size_t max);

// True when a token can go in an Authorization header as is.
[[nodiscard]] bool is_header_safe(std::string_view token) noexcept;

// Reads a small credential file (a certificate, a federated token), at most
// `limit` bytes. Errc::config naming `variable` and the path on failure.
[[nodiscard]] Result<SecretString> read_credential_file(std::string_view path,
                                                        std::string_view variable,
                                                        std::size_t limit);

// A tenant id or domain that may go into a URL path.
[[nodiscard]] bool is_tenant_id(std::string_view tenant) noexcept;

} // namespace secrun::auth::azure
