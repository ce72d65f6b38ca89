// Secrets Manager protocol facts the aws_secrets backend needs: secret ARNs,
// what each error code means, how a batch answer maps to what was asked
// (shared/protocols/aws.md §1.4–1.6). Pure.
#pragma once

#include "error.hpp"
#include "https/client.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::backends {
namespace aws {

// The parts of a Secrets Manager ARN
// (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[-xxxxxx]).
struct SecretArn {
    std::string partition;
    std::string region;
    std::string account;
    std::string name; // with the random suffix when the ARN is complete
};

// nullopt when `key` does not start with "arn:"; an error (Errc::manifest)
// when it does but is not a Secrets Manager secret ARN.
[[nodiscard]] Result<std::optional<SecretArn>> parse_secret_arn(std::string_view key);

// What an error code means, with the service's message and a hint, e.g.
// "access denied (AccessDeniedException): <AWS message>", and the category
// the code implies (not_found, auth, unavailable, ...).
[[nodiscard]] Error describe_error(std::string_view code, std::string_view message, unsigned status);

// The same about secret `key`, e.g.
// "secret 'prod/db': access denied (AccessDeniedException): <AWS message>",
// with the category the code implies (not_found, auth, unavailable, ...).
[[nodiscard]] Error secret_error(std::string_view key, std::string_view code, std::string_view message,
                                 unsigned status);

// The same for an HTTP answer that is not 200.
[[nodiscard]] Error secret_error(std::string_view key, const https::Response& response);

// Whether a value in a batch answer (its ARN and Name) is the one asked for
// by `asked`: a name, a full ARN, or a partial ARN (no "-xxxxxx" suffix).
[[nodiscard]] bool answers(std::string_view asked, std::string_view arn, std::string_view name);

// The most secrets one BatchGetSecretValue call may name.
inline constexpr std::size_t batch_size = 20;

} // namespace aws
} // namespace secrun::backends
