// Credential JSON as the ECS/EKS container endpoint, EC2 instance metadata
// ("Token") and credential_process ("SessionToken", "Version": 1) give it.
// Never crashes; what parses has a key id and a secret.
#include "fuzz_support.hpp"

#include "auth/aws_credential_process.hpp"
#include "auth/aws_metadata.hpp"

#include <chrono>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    const std::string_view body = secrun::fuzz::as_text(data, size);
    const std::chrono::system_clock::time_point now{std::chrono::seconds(1714979289)};

    for (const char* token_key : {"Token", "SessionToken"}) {
        const auto credentials =
            secrun::auth::credentials_from_json(body, token_key, "container credentials");
        if (credentials)
            require(!credentials->access_key_id.empty() && !credentials->secret_access_key.empty(),
                    "credentials have a key id and a secret");
        else
            require(credentials.error().message.rfind("container credentials: ", 0) == 0,
                    "errors start with what was read");
    }
    const auto processed = secrun::auth::parse_credential_process_output(body, now);
    if (processed)
        require(!processed->expiration || *processed->expiration > now,
                "credential_process credentials have not expired");
    return 0;
}
