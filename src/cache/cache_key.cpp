#include "cache/cache_key.hpp"

#include "secret.hpp"
#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

namespace secrun::cache {

namespace {

using util::str_cat;

constexpr std::string_view key_rules =
    "the cache key must be 32 random bytes written as 64 hex digits or 44 base64 characters "
    "(openssl rand -hex 32)";

int hex_digit(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool all_hex(std::string_view s) noexcept
{
    return std::all_of(s.begin(), s.end(), [](char c) { return hex_digit(c) >= 0; });
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

Result<CacheKey> parse_key(std::string_view text)
{
    constexpr std::string_view var = "SECRUN_CACHE_KEY";
    std::array<unsigned char, CacheKey::size> bytes{};
    if (text.empty())
        return Error{Errc::config, str_cat(var, " is set but empty: ", key_rules)};

    if (all_hex(text)) {
        if (text.size() != 2 * CacheKey::size)
            return Error{Errc::config, str_cat(var, " has ", std::to_string(text.size()),
                                               " hex digits, not 64: ", key_rules)};
        for (std::size_t i = 0; i < bytes.size(); ++i)
            bytes[i] = static_cast<unsigned char>(hex_digit(text[2 * i]) * 16 + hex_digit(text[2 * i + 1]));
        CacheKey key(bytes, std::string(var));
        cleanse(bytes.data(), bytes.size());
        return key;
    }

    if (std::optional<std::string> decoded = util::base64_decode(text)) {
        const std::size_t n = decoded->size();
        if (n == CacheKey::size)
            std::memcpy(bytes.data(), decoded->data(), n);
        cleanse(*decoded);
        if (n != CacheKey::size)
            return Error{Errc::config, str_cat(var, " decodes from base64 to ", std::to_string(n),
                                               " bytes, not 32: ", key_rules)};
        CacheKey key(bytes, std::string(var));
        cleanse(bytes.data(), bytes.size());
        return key;
    }

    const bool padded = is_space(text.front()) || is_space(text.back());
    return Error{Errc::config,
                 str_cat(var, " is neither hex nor base64",
                         padded ? " (it has leading or trailing whitespace)" : "", ": ", key_rules)};
}

Result<CacheKey> derive_key(std::string_view credential, std::string_view variable)
{
    struct KdfDeleter {
        void operator()(EVP_KDF* k) const noexcept { EVP_KDF_free(k); }
        void operator()(EVP_KDF_CTX* c) const noexcept { EVP_KDF_CTX_free(c); }
    };
    std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
    if (!ctx)
        return Error{Errc::internal, "HKDF-SHA256 is not available in this OpenSSL build"};

    char digest[] = "SHA256";
    // OSSL_PARAM wants non-const pointers; the KDF only reads them.
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(credential.data()),
                                          credential.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                          const_cast<char*>(key_derivation_info.data()),
                                          key_derivation_info.size()),
        OSSL_PARAM_construct_end(),
    };
    std::array<unsigned char, CacheKey::size> bytes{};
    if (EVP_KDF_derive(ctx.get(), bytes.data(), bytes.size(), params) != 1)
        return Error{Errc::internal, "HKDF-SHA256 derivation of the cache key failed"};
    CacheKey key(bytes, std::string(variable));
    cleanse(bytes.data(), bytes.size());
    return key;
}

} // namespace

// ---- CacheKey ----------------------------------------------------------------

CacheKey::CacheKey(std::span<const unsigned char, size> bytes, std::string origin)
    : origin_(std::move(origin))
{
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

CacheKey::CacheKey(CacheKey&& other) noexcept : bytes_(other.bytes_), origin_(std::move(other.origin_))
{
    cleanse(other.bytes_.data(), other.bytes_.size());
}

CacheKey& CacheKey::operator=(CacheKey&& other) noexcept
{
    if (this != &other) {
        bytes_ = other.bytes_;
        origin_ = std::move(other.origin_);
        cleanse(other.bytes_.data(), other.bytes_.size());
    }
    return *this;
}

CacheKey::~CacheKey() { cleanse(bytes_.data(), bytes_.size()); }

Result<CacheKey> cache_key(const EnvMap& env)
{
    if (std::optional<std::string_view> text = env.get("SECRUN_CACHE_KEY"))
        return parse_key(*text);

    for (std::string_view variable : {"DOPPLER_TOKEN", "AZURE_CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY"}) {
        if (variable == "AWS_SECRET_ACCESS_KEY" && env.get_nonempty("AWS_SESSION_TOKEN"))
            continue;
        if (std::optional<std::string_view> credential = env.get_nonempty(variable))
            return derive_key(*credential, variable);
    }
    return Error{Errc::config,
                 "--cache needs SECRUN_CACHE_KEY (32 random bytes as 64 hex digits or base64, e.g. "
                 "openssl rand -hex 32): no static credential to derive a key from (DOPPLER_TOKEN, "
                 "AZURE_CLIENT_SECRET, or AWS_SECRET_ACCESS_KEY without AWS_SESSION_TOKEN)"};
}

} // namespace secrun::cache
