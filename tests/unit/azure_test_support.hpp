// Test helpers for the Azure units: a throwaway RSA key and self-signed
// certificate made with the OpenSSL API (nothing committed), JWT signature
// checks, and a temporary directory.
#pragma once

#include "error.hpp"
#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace secrun {
// Lets BOOST_TEST print an Errc (found by ADL).
inline std::ostream& boost_test_print_type(std::ostream& os, Errc code)
{
    return os << "Errc(" << static_cast<int>(code) << ")";
}
} // namespace secrun

namespace secrun::testing {

inline std::string bio_text(BIO* bio)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// An RSA (or EC) key with a self-signed certificate for it.
class TestCertificate {
public:
    explicit TestCertificate(bool rsa = true, const char* common_name = "secrun-test")
        : key_(rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"), EVP_PKEY_free),
          cert_(X509_new(), X509_free)
    {
        if (!key_ || !cert_)
            throw std::runtime_error("OpenSSL key generation failed");
        X509* x = cert_.get();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, key_.get());
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
        X509_set_issuer_name(x, name);
        if (X509_sign(x, key_.get(), EVP_sha256()) == 0)
            throw std::runtime_error("OpenSSL certificate signing failed");
    }

    [[nodiscard]] std::string cert_pem() const
    {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
        PEM_write_bio_X509(bio.get(), cert_.get());
        return bio_text(bio.get());
    }

    // PKCS#8 PEM, encrypted with AES-256 when a password is given.
    [[nodiscard]] std::string key_pem(const std::string& password = {}) const
    {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
        if (password.empty())
            PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
        else
            PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), EVP_aes_256_cbc(), nullptr, 0,
                                          nullptr, const_cast<char*>(password.c_str()));
        return bio_text(bio.get());
    }

    [[nodiscard]] std::string pkcs12(const std::string& password) const
    {
        std::unique_ptr<PKCS12, decltype(&PKCS12_free)> p12(
            PKCS12_create(password.c_str(), "secrun", key_.get(), cert_.get(), nullptr, 0, 0, 0, 0, 0),
            PKCS12_free);
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
        i2d_PKCS12_bio(bio.get(), p12.get());
        return bio_text(bio.get());
    }

    [[nodiscard]] std::string der() const
    {
        unsigned char* out = nullptr;
        const int length = i2d_X509(cert_.get(), &out);
        std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(length));
        OPENSSL_free(out);
        return der;
    }

    // base64url SHA-1 / SHA-256 thumbprints, computed the independent way.
    [[nodiscard]] std::string thumbprint(const EVP_MD* md) const
    {
        unsigned char buffer[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        X509_digest(cert_.get(), md, buffer, &length);
        return util::base64url_encode(std::string(reinterpret_cast<char*>(buffer), length));
    }

    // True when `jwt` (header.payload.signature) carries a valid RS256
    // signature by this certificate's key.
    [[nodiscard]] bool verifies_rs256(std::string_view jwt) const
    {
        const auto last_dot = jwt.rfind('.');
        if (last_dot == std::string_view::npos)
            return false;
        const auto signature = util::base64url_decode(jwt.substr(last_dot + 1));
        if (!signature)
            return false;
        const std::string_view input = jwt.substr(0, last_dot);
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        EVP_PKEY* public_key = X509_get0_pubkey(cert_.get());
        if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) != 1)
            return false;
        return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                                signature->size(), reinterpret_cast<const unsigned char*>(input.data()),
                                input.size()) == 1;
    }

private:
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
    std::unique_ptr<X509, decltype(&X509_free)> cert_;
};

// One RSA key for the whole test binary (generation takes a moment).
inline const TestCertificate& rsa_certificate()
{
    static const TestCertificate certificate;
    return certificate;
}

// The segments of a JWT, decoded (the signature left as is).
struct JwtParts {
    std::string header;
    std::string payload;
};

inline JwtParts decode_jwt(std::string_view jwt)
{
    const auto parts = util::split(jwt, '.');
    if (parts.size() != 3)
        throw std::runtime_error("not a JWT");
    return {util::base64url_decode(parts[0]).value_or("?"),
            util::base64url_decode(parts[1]).value_or("?")};
}

class ScratchDir {
public:
    ScratchDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "secrun-azure-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

    std::string write(const std::string& name, std::string_view contents,
                      std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write) const
    {
        const auto file = path_ / name;
        std::ofstream(file, std::ios::binary).write(contents.data(),
                                                    static_cast<std::streamsize>(contents.size()));
        std::filesystem::permissions(file, perms);
        return file.string();
    }

private:
    std::filesystem::path path_;
};

} // namespace secrun::testing
