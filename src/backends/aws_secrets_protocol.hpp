// Secrets Manager protocol facts the aws_secrets backend needs: secret ARNs,
// what each error code means, how an answer maps to what was asked
// (shared/protocols/aws.md §1.4–1.6). Pure.
#pragma once

#include "backends/backend.hpp"
#include "error.hpp"
#include "https/client.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// A GetSecretValue answer (a JSON object) about secret `key`: the value from
// SecretString, or SecretBinary base64-decoded byte for byte; VersionId as
// the version and ARN as the source. Errors (Errc::bad_response) name the
// key, never a value:
//   "secret 'prod/db': GetSecretValue answered something that is not a JSON object"
//   "secret 'prod/db': the answer has neither SecretString nor SecretBinary"
//   "secret 'prod/db': SecretBinary is not valid base64"
[[nodiscard]] Result<Fetched> parse_secret_value(std::string_view key, std::string_view body);

// One page of a BatchGetSecretValue answer to a call that named `keys`.
struct BatchPage {
    // For each asked key the answer concerns (a SecretValues entry that
    // answers() it, or an Errors entry whose SecretId is it): its value or
    // its error, in the answer's order; a later entry for a key wins.
    std::vector<std::pair<std::string, Result<Fetched>>> results;
    std::string next_token; // "" on the last page
};

// Reads one page. Entries about keys not asked for, and entries that are not
// objects, are ignored. Errc::bad_response when the body is not a JSON object:
// "BatchGetSecretValue answered something that is not a JSON object".
[[nodiscard]] Result<BatchPage> parse_batch_page(std::string_view body,
                                                 const std::vector<std::string>& keys);

// The most secrets one BatchGetSecretValue call may name.
inline constexpr std::size_t batch_size = 20;

} // namespace aws
} // namespace secrun::backends
