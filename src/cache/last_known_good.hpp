// Last known good: the resolved set, sealed with AES-256-GCM in one file, so
// that a run can start from it when the backend is unreachable (DESIGN §4).
//
// This module only reads and writes the file. Deciding *when* to use it (a
// transient failure after retries, never 401/403/404, only with --cache) and
// what to tell the user is the caller's job.
//
// File layout (all integers big-endian):
//   "SRLKG1"  magic, 6 bytes
//   0x01      format version
//   nonce     12 random bytes (a fresh one per write)
//   ciphertext
//   tag       16 bytes (GCM)
// The associated data is the 7 header bytes (magic + version). Everything
// else, the write time and the manifest fingerprint included, is inside the
// plaintext, so nothing in the file is believed before the tag verifies, and
// a changed manifest can still be told apart from tampering (after a
// successful decryption) with its own message. Plaintext:
//   u64 written_at (seconds since the Unix epoch, two's complement)
//   u32 length + fingerprint bytes
//   u32 entry count, then per entry five u32-length-prefixed byte strings:
//   name, value, backend, source, version
#pragma once

#include "cache/cache_key.hpp"
#include "error.hpp"
#include "secret.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::cache {

/// One resolved variable, as injected, with where it came from.
struct CachedEntry {
    std::string name;
    SecretString value;
    std::string backend; // scheme: "env", "aws_secrets", ...
    std::string source;  // Fetched::source
    std::string version; // Fetched::version (may be empty)
};

/// Lowercase hex SHA-256 of `canonical_manifest`, a canonical description of
/// what was asked for (entries, references, options, default backend) built
/// by the caller. A cache is used only when the fingerprint is unchanged.
[[nodiscard]] std::string manifest_fingerprint(std::string_view canonical_manifest);

/// Largest cache file load() reads and store() writes.
inline constexpr std::size_t max_file_size = 4 * 1024 * 1024;

/// How far in the future a write time may be (clock differences between
/// hosts sharing a volume) before the file is refused.
inline constexpr std::chrono::seconds allowed_clock_skew{300};

/// Seals `entries` with the fingerprint and `now` into `path`, atomically:
/// a new file "<path>.tmp-<random>" in the same directory (O_EXCL, mode
/// 0600), written, fsynced, renamed over `path`, then the directory is
/// fsynced. On failure the temporary file is removed and `path` is left as it
/// was. Errc::io with a message naming the file, the step and the errno text
/// ("cannot write cache '/c/app.lkg': cannot create '/c/app.lkg.tmp-…':
/// Read-only file system"); a missing or read-only directory is such an
/// error, which callers report as a warning.
[[nodiscard]] Result<void> store(const std::string& path, const CacheKey& key,
                                 std::string_view fingerprint,
                                 const std::vector<CachedEntry>& entries,
                                 std::chrono::system_clock::time_point now);

struct Loaded {
    std::vector<CachedEntry> entries;
    std::chrono::seconds age{0}; // now - written_at, never negative
};

/// Opens the cache at `path`. Fails with:
/// - Errc::not_found: "cache 'F' does not exist";
/// - Errc::io for everything else: unreadable, not a regular file, larger
///   than max_file_size, not a cache file (magic), another format version,
///   truncated, failed authentication (tampered, truncated or another key),
///   written for another manifest fingerprint, older than `max_age`, or
///   written more than allowed_clock_skew in the future.
/// Each case has its own message; see the tests for the exact words.
[[nodiscard]] Result<Loaded> load(const std::string& path, const CacheKey& key,
                                  std::string_view fingerprint, std::chrono::seconds max_age,
                                  std::chrono::system_clock::time_point now);

/// An age for messages, in its two largest units: "0s", "45s", "3m20s",
/// "3m", "3h12m", "2d4h". Negative ages print as "0s".
[[nodiscard]] std::string format_age(std::chrono::seconds age);

} // namespace secrun::cache
