#include "auth/azure_jwt.hpp"

#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

namespace secrun::auth {
namespace json = boost::json;
using util::str_cat;

struct ClientCertificate::Key {
    EVP_PKEY* pkey = nullptr;
    ~Key() { EVP_PKEY_free(pkey); }
};

ClientCertificate::ClientCertificate(std::unique_ptr<Key> key) : key_(std::move(key)) {}
ClientCertificate::ClientCertificate(ClientCertificate&&) noexcept = default;
ClientCertificate& ClientCertificate::operator=(ClientCertificate&&) noexcept = default;
ClientCertificate::~ClientCertificate() = default;

namespace {

struct BioFree {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct X509StackFree {
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
struct Pkcs12Free {
    void operator()(PKCS12* p) const noexcept { PKCS12_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

BioPtr memory_bio(std::string_view data)
{
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// The password callback: never prompts on a terminal (OpenSSL's default
// would); it records that a password was needed.
struct PasswordSource {
    std::string_view password;
    bool asked = false;
};

int password_callback(char* buffer, int size, int /*rwflag*/, void* user)
{
    auto* source = static_cast<PasswordSource*>(user);
    source->asked = true;
    if (source->password.empty() || size < 0 ||
        source->password.size() > static_cast<std::size_t>(size))
        return -1;
    std::memcpy(buffer, source->password.data(), source->password.size());
    return static_cast<int>(source->password.size());
}

std::string der_of(X509* cert)
{
    const int length = i2d_X509(cert, nullptr);
    if (length <= 0)
        return {};
    std::string der(static_cast<std::size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509(cert, &out);
    return der;
}

std::string digest(std::string_view data, const EVP_MD* md)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(out.data()), size);
}

// Reads every certificate and the private key from PEM text.
Result<void> read_pem(std::string_view contents, std::string_view password, std::string_view path,
                      std::vector<X509Ptr>& certs, EVP_PKEY*& pkey)
{
    const auto bad = [&](std::string_view why) {
        return Error(Errc::config, str_cat("certificate ", util::quoted(path), ": ", why));
    };
    {
        BioPtr bio = memory_bio(contents);
        while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
            certs.emplace_back(cert);
        ERR_clear_error(); // the loop ends on "no start line"
    }
    PasswordSource source{password};
    BioPtr bio = memory_bio(contents);
    pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, password_callback, &source);
    ERR_clear_error();
    if (pkey == nullptr) {
        if (source.asked && password.empty())
            return bad("the private key is encrypted: set AZURE_CLIENT_CERTIFICATE_PASSWORD");
        if (source.asked)
            return bad("cannot decrypt the private key (wrong AZURE_CLIENT_CERTIFICATE_PASSWORD?)");
        return bad("no private key found (the file must hold the PEM certificate and its "
                   "private key)");
    }
    return {};
}

// Reads a DER PKCS#12 (.pfx) file.
Result<void> read_pkcs12(std::string_view contents, std::string_view password,
                         std::string_view path, std::vector<X509Ptr>& certs, EVP_PKEY*& pkey)
{
    const auto bad = [&](std::string_view why) {
        return Error(Errc::config, str_cat("certificate ", util::quoted(path), ": ", why));
    };
    BioPtr bio = memory_bio(contents);
    std::unique_ptr<PKCS12, Pkcs12Free> p12(d2i_PKCS12_bio(bio.get(), nullptr));
    if (!p12) {
        ERR_clear_error();
        return bad("neither PEM nor PKCS#12");
    }
    const std::string pass(password);
    X509* leaf = nullptr;
    STACK_OF(X509)* extra = nullptr;
    if (PKCS12_parse(p12.get(), pass.c_str(), &pkey, &leaf, &extra) != 1) {
        ERR_clear_error();
        return bad(password.empty()
                       ? "cannot open the PKCS#12 file: set AZURE_CLIENT_CERTIFICATE_PASSWORD"
                       : "cannot open the PKCS#12 file (wrong AZURE_CLIENT_CERTIFICATE_PASSWORD?)");
    }
    std::unique_ptr<STACK_OF(X509), X509StackFree> rest(extra);
    if (leaf != nullptr)
        certs.emplace_back(leaf);
    while (rest && sk_X509_num(rest.get()) > 0)
        certs.emplace_back(sk_X509_shift(rest.get()));
    if (pkey == nullptr)
        return bad("no private key found in the PKCS#12 file");
    return {};
}

} // namespace

Result<ClientCertificate> load_client_certificate(std::string_view contents,
                                                  std::string_view password, std::string_view path)
{
    const auto bad = [&](std::string_view why) {
        return Error(Errc::config, str_cat("certificate ", util::quoted(path), ": ", why));
    };
    if (contents.size() > INT_MAX)
        return bad("too large");

    auto key = std::make_unique<ClientCertificate::Key>();
    std::vector<X509Ptr> certs;
    const bool pem = contents.find("-----BEGIN") != std::string_view::npos;
    auto loaded = pem ? read_pem(contents, password, path, certs, key->pkey)
                      : read_pkcs12(contents, password, path, certs, key->pkey);
    if (!loaded)
        return loaded.error();
    if (EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_RSA)
        return bad("the private key is not an RSA key (Entra ID certificate credentials use RSA)");
    if (certs.empty())
        return bad("no certificate found");

    // The certificate that goes with the key identifies the credential; the
    // others are its chain.
    std::size_t leaf = certs.size();
    for (std::size_t i = 0; i < certs.size(); ++i) {
        if (X509_check_private_key(certs[i].get(), key->pkey) == 1) {
            leaf = i;
            break;
        }
    }
    ERR_clear_error();
    if (leaf == certs.size())
        return bad("no certificate in the file matches its private key");
    std::rotate(certs.begin(), certs.begin() + static_cast<std::ptrdiff_t>(leaf),
                certs.begin() + static_cast<std::ptrdiff_t>(leaf) + 1);

    ClientCertificate result(std::move(key));
    for (const auto& cert : certs) {
        const std::string der = der_of(cert.get());
        if (der.empty())
            return bad("cannot encode the certificate");
        if (result.chain_.empty()) {
            result.x5t_ = util::base64url_encode(digest(der, EVP_sha1()));
            result.x5t_s256_ = util::base64url_encode(digest(der, EVP_sha256()));
        }
        result.chain_.push_back(util::base64_encode(der));
    }
    return result;
}

Result<std::string> random_guid()
{
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        ERR_clear_error();
        return Error(Errc::internal, "the system random generator failed");
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40); // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80); // RFC 4122 variant
    const std::string hex =
        util::hex_lower(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    return str_cat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                   hex.substr(16, 4), "-", hex.substr(20));
}

Result<SecretString> make_client_assertion(const ClientCertificate& certificate,
                                           const AssertionClaims& claims)
{
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         claims.now.time_since_epoch())
                         .count();
    auto jti = random_guid();
    if (!jti)
        return jti.error();

    json::object header;
    header["alg"] = "RS256";
    header["typ"] = "JWT";
    header["x5t"] = certificate.x5t();
    if (claims.send_chain) {
        json::array x5c;
        for (const auto& cert : certificate.chain())
            x5c.emplace_back(cert);
        header["x5c"] = std::move(x5c);
    }
    json::object payload;
    payload["aud"] = claims.audience;
    payload["iss"] = claims.client_id;
    payload["sub"] = claims.client_id;
    payload["jti"] = *jti;
    payload["nbf"] = now;
    payload["iat"] = now;
    payload["exp"] = now + claims.lifetime.count();

    std::string signing_input = str_cat(util::base64url_encode(json::serialize(header)), ".",
                                        util::base64url_encode(json::serialize(payload)));

    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
    if (!ctx ||
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, certificate.key_->pkey) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, input, signing_input.size()) != 1) {
        ERR_clear_error();
        return Error(Errc::internal, "cannot sign the client assertion");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       input, signing_input.size()) != 1) {
        ERR_clear_error();
        return Error(Errc::internal, "cannot sign the client assertion");
    }
    signature.resize(length);
    signing_input += '.';
    signing_input += util::base64url_encode(signature);
    return SecretString(std::move(signing_input));
}

} // namespace secrun::auth
