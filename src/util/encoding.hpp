// Byte encodings used by the protocols: hex (SigV4), base64 (SecretBinary,
// proxy Basic auth), base64url (JWT client assertions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace secrun::util {

[[nodiscard]] std::string hex_lower(std::string_view bytes);
[[nodiscard]] std::string base64_encode(std::string_view bytes);
[[nodiscard]] std::string base64url_encode(std::string_view bytes); // no padding
// Strict RFC 4648 decoding (padding required, no whitespace); nullopt when malformed.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);
// base64url, padding optional (JWT segments); nullopt when malformed.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);
// RFC 3986 percent-encoding of everything but unreserved characters
// (A-Z a-z 0-9 - _ . ~); '/' too unless keep_slash.
[[nodiscard]] std::string percent_encode(std::string_view text, bool keep_slash = false);
// Decodes %XX; nullopt on a malformed escape.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text);

} // namespace secrun::util
