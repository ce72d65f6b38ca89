// What Azure's token sources answer: a token endpoint's JSON (Entra ID,
// IMDS, App Service: access_token with expires_on or expires_in, numbers or
// numeric strings), `az account get-access-token` output, a token endpoint's
// error body, and Key Vault's WWW-Authenticate challenge. Never crashes;
// what parses has a token that can go in a header, and an expiry that
// system_clock can hold (huge epoch numbers must not overflow).
#include "fuzz_support.hpp"

#include "auth/azure_sources.hpp"
#include "backends/azure_keyvault.hpp"

#include <chrono>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    namespace azure = secrun::auth::azure;
    const std::string_view body = secrun::fuzz::as_text(data, size);
    const std::chrono::system_clock::time_point now{std::chrono::seconds(1714979289)};

    if (const auto token = azure::parse_token_response(body, now, "IMDS"))
        require(!token->access_token.empty() && azure::is_header_safe(token->access_token.reveal()),
                "a parsed token can go in an Authorization header");
    else
        require(token.error().message.rfind("IMDS answered ", 0) == 0,
                "token endpoint errors name the endpoint");

    if (const auto token = azure::parse_cli_output(body))
        require(!token->access_token.empty() && azure::is_header_safe(token->access_token.reveal()),
                "az's token can go in an Authorization header");
    else
        require(token.error().message.rfind("Azure CLI: ", 0) == 0, "az errors name the source");

    const std::string described = azure::describe_error_body(body);
    require(described.find('\n') == std::string::npos, "an error description is one line");

    if (const auto challenge = secrun::backends::azure_keyvault::parse_challenge(body))
        require(challenge->tenant.find('/') == std::string::npos,
                "a challenge's tenant is one path segment");
    return 0;
}
