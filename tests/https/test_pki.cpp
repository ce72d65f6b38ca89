#include "test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace secrun::testing {
namespace {

struct KeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CertFree {
    void operator()(X509* p) const { X509_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void check(bool ok, const char* step)
{
    if (!ok)
        throw std::runtime_error(std::string("test PKI: ") + step + " failed");
}

Key make_key()
{
    // EVP_EC_gen() without its C-style cast.
    Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-256")));
    check(key != nullptr, "EC key generation");
    return key;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value)
{
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
    check(ext != nullptr, value);
    check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
    X509_EXTENSION_free(ext);
}

// Issued by `issuer` (self-signed when null) for `subject_key`.
Cert make_cert(const char* common_name, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
               long serial, bool is_ca, const char* san)
{
    Cert cert(X509_new());
    check(cert != nullptr, "X509_new");
    X509* x = cert.get();
    check(X509_set_version(x, 2) == 1, "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1, "serial");
    check(X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) != nullptr, "notAfter");
    check(X509_set_pubkey(x, subject_key) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(x);
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                                     0) == 1,
          "subject");
    check(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1, "issuer");

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
    if (is_ca) {
        add_extension(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_extension(x, &ctx, NID_subject_key_identifier, "hash");
    } else {
        add_extension(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(x, &ctx, NID_key_usage, "critical,digitalSignature");
        add_extension(x, &ctx, NID_ext_key_usage, "serverAuth");
        add_extension(x, &ctx, NID_subject_alt_name, san);
        add_extension(x, &ctx, NID_authority_key_identifier, "keyid:always");
    }
    check(X509_sign(x, issuer_key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

void write_pem(const std::string& path, X509* cert)
{
    BIO* out = BIO_new_file(path.c_str(), "w");
    check(out != nullptr, "BIO_new_file");
    const bool written = PEM_write_bio_X509(out, cert) == 1;
    BIO_free(out);
    check(written, "PEM_write_bio_X509");
}

} // namespace

struct TestPki::Impl {
    Key ca_key = make_key();
    Cert ca = make_cert("secrun test CA", ca_key.get(), nullptr, ca_key.get(), 1, true, nullptr);
    Key good_key = make_key();
    Cert good = make_cert("127.0.0.1", good_key.get(), ca.get(), ca_key.get(), 2, false,
                          "IP:127.0.0.1,DNS:localhost,DNS:proxied.example");
    Key wrong_key = make_key();
    Cert wrong = make_cert("wrong.example", wrong_key.get(), ca.get(), ca_key.get(), 3, false,
                           "DNS:wrong.example");
};

TestPki::TestPki() : impl_(std::make_unique<Impl>())
{
    std::string pattern =
        (std::filesystem::temp_directory_path() / "secrun-https-test-XXXXXX").string();
    check(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
    dir_ = pattern;
    ca_file_ = dir_ + "/ca.pem";
    write_pem(ca_file_, impl_->ca.get());
    ca_dir_ = dir_ + "/certs";
    std::filesystem::create_directory(ca_dir_);
    char hashed[16];
    std::snprintf(hashed, sizeof hashed, "%08lx.0", X509_subject_name_hash(impl_->ca.get()));
    write_pem(ca_dir_ + "/" + hashed, impl_->ca.get());
}

TestPki::~TestPki()
{
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::shared_ptr<boost::asio::ssl::context> TestPki::server_context(Leaf leaf) const
{
    auto context =
        std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    SSL_CTX* ctx = context->native_handle();
    X509* cert = leaf == Leaf::good ? impl_->good.get() : impl_->wrong.get();
    EVP_PKEY* key = leaf == Leaf::good ? impl_->good_key.get() : impl_->wrong_key.get();
    check(SSL_CTX_use_certificate(ctx, cert) == 1, "SSL_CTX_use_certificate");
    check(SSL_CTX_use_PrivateKey(ctx, key) == 1, "SSL_CTX_use_PrivateKey");
    // SSL_CTX_add1_chain_cert without its C-style cast.
    check(SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 1, impl_->ca.get()) == 1, "chain");
    return context;
}

const TestPki& test_pki()
{
    static const TestPki pki;
    return pki;
}

} // namespace secrun::testing
