// The key that seals the last-known-good cache: given in SECRUN_CACHE_KEY,
// or derived from the backend credential the run already holds.
#pragma once

#include "env_map.hpp"
#include "error.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace secrun::cache {

/// A 256-bit AES key; the bytes are wiped when the key is destroyed or moved from.
class CacheKey {
public:
    static constexpr std::size_t size = 32;

    /// `origin` names where the key came from ("SECRUN_CACHE_KEY",
    /// "DOPPLER_TOKEN"), for a debug line; never the key itself.
    CacheKey(std::span<const unsigned char, size> bytes, std::string origin);
    CacheKey(const CacheKey& other) = default;
    CacheKey(CacheKey&& other) noexcept;
    CacheKey& operator=(const CacheKey& other) = default;
    CacheKey& operator=(CacheKey&& other) noexcept;
    ~CacheKey();

    [[nodiscard]] std::span<const unsigned char, size> bytes() const noexcept { return bytes_; }
    [[nodiscard]] const std::string& origin() const noexcept { return origin_; }

private:
    std::array<unsigned char, size> bytes_{};
    std::string origin_;
};

/// The context string of the HKDF derivation; changing it orphans every cache.
inline constexpr std::string_view key_derivation_info = "secrun last-known-good v1";

/// The cache key.
/// 1. SECRUN_CACHE_KEY, when set: 32 bytes written as 64 hex digits or as
///    standard base64 with padding (44 characters). Nothing else is accepted.
/// 2. Otherwise HKDF-SHA256 (no salt, info = key_derivation_info) over the
///    first of these credentials that is set and not empty: DOPPLER_TOKEN,
///    AZURE_CLIENT_SECRET, AWS_SECRET_ACCESS_KEY. The AWS key is skipped when
///    AWS_SESSION_TOKEN is set: temporary keys rotate, and a cache sealed with
///    one could not be opened once it changed. Rotating the credential makes
///    the old cache unreadable (authentication failure) until the next good run.
/// Errc::config when SECRUN_CACHE_KEY is malformed or no source exists. The
/// message names the variable, never its value.
[[nodiscard]] Result<CacheKey> cache_key(const EnvMap& env);

} // namespace secrun::cache
