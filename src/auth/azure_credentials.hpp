// Entra ID (Azure AD) access tokens, from the sources DefaultAzureCredential
// tries, in its order:
//   1. environment: AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET, or
//      + AZURE_CLIENT_CERTIFICATE_PATH [+ AZURE_CLIENT_CERTIFICATE_PASSWORD]
//   2. workload identity: AZURE_FEDERATED_TOKEN_FILE + AZURE_CLIENT_ID + AZURE_TENANT_ID
//   3. managed identity: App Service (IDENTITY_ENDPOINT + IDENTITY_HEADER), else
//      IMDS (user-assigned by AZURE_CLIENT_ID; AZURE_POD_IDENTITY_AUTHORITY_HOST
//      overrides its address)
//   4. Azure CLI: `az account get-access-token`
// AZURE_TOKEN_CREDENTIALS narrows the chain as the SDKs allow ("prod", "dev",
// or one credential name). A source that is not configured or not reachable
// is skipped; one that is configured but fails (a rejected client secret)
// stops the chain with its error, as DefaultAzureCredential does.
#pragma once

#include "env_map.hpp"
#include "error.hpp"
#include "secret.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace secrun::https {
class Client;
}

namespace secrun::auth {

struct AzureToken {
    SecretString access_token;
    std::chrono::system_clock::time_point expires_on;
    std::string tenant; // the tenant requested explicitly; empty: the source's default
};

struct AzureTokenRequest {
    std::string scope;          // v2 scope, e.g. "https://vault.azure.net/.default"
    std::string tenant;         // named by a Key Vault challenge; empty: the configured one
    std::string authority_host; // when AZURE_AUTHORITY_HOST is unset; empty: public cloud
};

struct AzureCredentialOptions {
    std::chrono::milliseconds cli_timeout{10000};       // `az` is killed after this
    std::chrono::milliseconds imds_probe_timeout{1000}; // "is there an IMDS at all?"
};

using WallClock = std::function<std::chrono::system_clock::time_point()>;

class AzureCredentialChain {
public:
    /// `env` and `http` must outlive every get_token() call (the resolver's
    /// event loop); `now` stamps client assertions and expiry times.
    AzureCredentialChain(const EnvMap& env, https::Client& http, WallClock now,
                         AzureCredentialOptions options = {});

    /// A token for request.scope. Once a source has produced a token, later
    /// calls use that source only. Errors: Errc::config for a bad setting
    /// (AZURE_TOKEN_CREDENTIALS, an unreadable certificate file), Errc::auth
    /// when no source is available ("no Azure credential: environment: ...;
    /// workload identity: ...; ...") or one rejects the request, the HTTPS
    /// client's code (network, timeout, unavailable) when a token endpoint
    /// cannot be reached. Messages never hold a secret or a token.
    [[nodiscard]] boost::asio::awaitable<Result<AzureToken>> get_token(AzureTokenRequest request);

    /// "environment (client secret)", "managed identity (IMDS)", ...: the
    /// source of the last token; empty before one was obtained.
    [[nodiscard]] const std::string& source() const noexcept { return source_; }

    /// The variables holding the credential that was used (AZURE_CLIENT_SECRET,
    /// IDENTITY_HEADER, ...), for --scrub-credentials; empty before a token.
    [[nodiscard]] const std::vector<std::string>& credential_variables() const noexcept
    {
        return variables_;
    }

private:
    const EnvMap& env_;
    https::Client& http_;
    WallClock now_;
    AzureCredentialOptions options_;
    std::optional<std::size_t> chosen_; // the source that produced a token
    std::string source_;
    std::vector<std::string> variables_;
};

} // namespace secrun::auth
