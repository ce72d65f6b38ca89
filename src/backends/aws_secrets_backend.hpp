// The aws_secrets backend: AWS Secrets Manager over its JSON protocol
// (awsJson1_1, SigV4-signed), shared/protocols/aws.md §1.
//
// prepare() reads the configuration, resolves the region and the
// credentials once for every secret, and with --aws-batch prefetches
// AWSCURRENT values with BatchGetSecretValue (20 per call). fetch() calls
// GetSecretValue for everything else; the resolver runs those concurrently.
#pragma once

#include "backends/backend.hpp"
#include "https/client.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::backends {

[[nodiscard]] std::unique_ptr<Backend> make_aws_secrets_backend(Context& context);

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

// The most secrets one BatchGetSecretValue call may name.
inline constexpr std::size_t batch_size = 20;

} // namespace aws
} // namespace secrun::backends
