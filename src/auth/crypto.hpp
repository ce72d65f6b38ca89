// Hashes and MACs for request signing (SigV4). The only user-facing wrapper
// around OpenSSL's EVP interface; nothing else includes evp.h.
#pragma once

#include <string>
#include <string_view>

namespace secrun::auth {

// Raw 32-byte SHA-256 digest of `data`.
[[nodiscard]] std::string sha256(std::string_view data);

// Lower-case hex SHA-256 of `data` (64 characters).
[[nodiscard]] std::string sha256_hex(std::string_view data);

// Raw 32-byte HMAC-SHA256 of `data` under `key`. The result may be key
// material (SigV4's derived keys): callers wipe it with cleanse().
[[nodiscard]] std::string hmac_sha256(std::string_view key, std::string_view data);

} // namespace secrun::auth
