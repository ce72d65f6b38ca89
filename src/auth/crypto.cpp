#include "auth/crypto.hpp"

#include "util/encoding.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>
#include <stdexcept>

namespace secrun::auth {
namespace {

// EVP failures here mean a broken OpenSSL installation (SHA-256 is always
// available); they surface as std::runtime_error, which main reports as an
// internal error.
[[noreturn]] void fail(const char* what) { throw std::runtime_error(what); }

const unsigned char* bytes(std::string_view s)
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

} // namespace

std::string sha256(std::string_view data)
{
    std::string out(32, '\0');
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &length,
                   EVP_sha256(), nullptr) != 1 ||
        length != out.size())
        fail("SHA-256 failed in OpenSSL");
    return out;
}

std::string sha256_hex(std::string_view data) { return util::hex_lower(sha256(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data)
{
    std::string out(32, '\0');
    unsigned int length = 0;
    // HMAC() is the one-shot EVP-backed MAC; it works on an empty key too.
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(),
             reinterpret_cast<unsigned char*>(out.data()), &length) == nullptr ||
        length != out.size())
        fail("HMAC-SHA256 failed in OpenSSL");
    return out;
}

} // namespace secrun::auth
