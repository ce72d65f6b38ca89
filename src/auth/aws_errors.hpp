// How AWS says what went wrong: error codes from awsJson responses, which
// codes are worth retrying (shared/protocols/aws.md §1.5, §5.1), and service
// messages made safe for a one-line error.
#pragma once

#include "https/client.hpp"

#include <string>
#include <string_view>

namespace secrun::auth {

struct AwsServiceError {
    std::string code;    // "ResourceNotFoundException"; "" when the response has none
    std::string message; // the service's text, bounded and on one line; may be ""
};

// Reads an awsJson error: the code from the X-Amzn-Errortype header, else
// the body's "__type" or "code" (cut at ':' and after '#'); the text from
// "message" or "Message". A body that is not JSON becomes the message.
[[nodiscard]] AwsServiceError parse_json_error(const https::Response& response);

// Throttling codes of the standard retry mode (ThrottlingException, ...).
[[nodiscard]] bool is_throttling_code(std::string_view code) noexcept;
// Transient codes of the standard retry mode (RequestTimeout, ...), throttling excluded.
[[nodiscard]] bool is_transient_code(std::string_view code) noexcept;

// A 4xx answer whose awsJson code says "try again" (HTTP 5xx is retried by
// the client already): for https::Request::retry_if.
[[nodiscard]] bool is_retryable_json_error(const https::Response& response);

// At most `limit` bytes of `text` on one line (control characters become
// spaces; "..." marks a cut).
[[nodiscard]] std::string one_line(std::string_view text, std::size_t limit = 300);

} // namespace secrun::auth
