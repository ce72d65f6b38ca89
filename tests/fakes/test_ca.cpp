#include "test_ca.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace secrun::fakes
{
namespace
{

// OpenSSL failures become this exception inside this file only;
// ensure_test_certs() turns it into a message.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail_openssl(std::string_view what)
{
    std::string message(what);
    char buf[256];
    while (const unsigned long code = ERR_get_error()) {
        ERR_error_string_n(code, buf, sizeof buf);
        message += ": ";
        message += buf;
    }
    throw Failure(message);
}

struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const noexcept { X509_free(p); }
};
struct BioFree {
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct ExtFree {
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;
using Ext = std::unique_ptr<X509_EXTENSION, ExtFree>;

Pkey make_ec_key()
{
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        fail_openssl("EC key generation failed");
    return key;
}

Pkey make_rsa_key()
{
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
    if (!key)
        fail_openssl("RSA key generation failed");
    return key;
}

constexpr long day = 24L * 3600L;
// *.fake-cloud.test (RFC 6761 reserves .test) names the fake behind its
// CONNECT proxy, which alone resolves them (to 127.0.0.1): clients never
// bypass a proxy for them as they do for loopback addresses.
constexpr std::string_view loopback_sans =
    "IP:127.0.0.1,IP:::1,DNS:localhost,DNS:*.fake-cloud.test";

struct CertSpec {
    std::string common_name;
    std::string_view sans;      // subjectAltName value; empty: none
    long not_before = -day;     // seconds relative to now
    long not_after = 365 * day; // seconds relative to now
    bool ca = false;
    std::string_view extended_usage = "serverAuth"; // empty for the CA
    std::string_view key_usage = "critical,digitalSignature";
};

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, std::string_view value)
{
    const std::string text(value);
    Ext ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, text.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
        fail_openssl("adding extension " + std::string(OBJ_nid2sn(nid)) + "=" + text);
}

void set_name(X509_NAME* name, const std::string& common_name)
{
    const auto add = [&](const char* field, const std::string& value) {
        if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.c_str()), -1,
                                       -1, 0) != 1)
            fail_openssl("setting the certificate name");
    };
    add("O", "secrun tests");
    add("CN", common_name);
}

// Builds and signs a certificate for `subject_key`. A null issuer means self-signed.
Cert make_cert(const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key)
{
    Cert cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
        fail_openssl("X509_new");

    // A random positive 63-bit serial: every generated directory differs.
    std::uint64_t serial = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1)
        fail_openssl("RAND_bytes");
    serial = (serial >> 1) | 1U;
    if (ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial) != 1)
        fail_openssl("setting the serial number");

    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after))
        fail_openssl("setting the validity period");

    set_name(X509_get_subject_name(cert.get()), spec.common_name);
    X509* issuer_cert = issuer ? issuer : cert.get();
    if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert)) != 1)
        fail_openssl("setting the issuer name");
    if (X509_set_pubkey(cert.get(), subject_key) != 1)
        fail_openssl("setting the public key");

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer_cert, cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), &ctx, NID_basic_constraints,
                  spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert.get(), &ctx, NID_key_usage, spec.key_usage);
    if (!spec.extended_usage.empty())
        add_extension(cert.get(), &ctx, NID_ext_key_usage, spec.extended_usage);
    // The subject key id goes first: the authority key id of a self-signed
    // certificate is computed from it.
    add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    if (!spec.sans.empty())
        add_extension(cert.get(), &ctx, NID_subject_alt_name, spec.sans);

    if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0)
        fail_openssl("signing the certificate " + spec.common_name);
    return cert;
}

std::string pem_of(X509* cert)
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
        fail_openssl("PEM_write_bio_X509");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* key)
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        fail_openssl("PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

[[noreturn]] void fail_errno(std::string_view what, const std::filesystem::path& path)
{
    const std::error_code ec(errno, std::system_category());
    throw Failure(std::string(what) + " " + path.string() + ": " + ec.message());
}

// Writes a file atomically (temporary file, then rename) with `mode`.
void write_file(const std::filesystem::path& path, const std::string& data, mode_t mode)
{
    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        fail_errno("cannot create", tmp);
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ::close(fd);
            fail_errno("cannot write", tmp);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0)
        fail_errno("cannot close", tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        fail_errno("cannot rename to", path);
}

void generate(const std::filesystem::path& dir)
{
    Pkey ca_key = make_ec_key();
    Cert ca = make_cert({.common_name = "secrun test CA",
                         .sans = "",
                         .not_before = -day,
                         .not_after = 3650 * day,
                         .ca = true,
                         .extended_usage = "",
                         .key_usage = "critical,keyCertSign,cRLSign"},
                        ca_key.get(), nullptr, ca_key.get());

    struct Leaf {
        LeafKind kind;
        CertSpec spec;
        bool self_signed;
    };
    const Leaf leaves[] = {
        {LeafKind::valid, {.common_name = "localhost", .sans = loopback_sans}, false},
        {LeafKind::wrong_host,
         {.common_name = "wrong.example", .sans = "DNS:wrong.example"},
         false},
        {LeafKind::expired,
         {.common_name = "localhost",
          .sans = loopback_sans,
          .not_before = -30 * day,
          .not_after = -day},
         false},
        {LeafKind::self_signed, {.common_name = "localhost", .sans = loopback_sans}, true},
    };
    for (const Leaf& leaf : leaves) {
        Pkey key = make_ec_key();
        Cert cert = leaf.self_signed ? make_cert(leaf.spec, key.get(), nullptr, key.get())
                                     : make_cert(leaf.spec, key.get(), ca.get(), ca_key.get());
        write_file(dir / CertNames::key(leaf.kind), pem_of(key.get()), 0600);
        write_file(dir / CertNames::cert(leaf.kind), pem_of(cert.get()), 0644);
    }

    // The client certificate for Entra ID client assertions is RSA: the
    // assertion is signed RS256 (or PS256), which needs an RSA key.
    Pkey client_key = make_rsa_key();
    Cert client = make_cert({.common_name = "secrun test client",
                             .sans = "",
                             .not_before = -day,
                             .not_after = 365 * day,
                             .ca = false,
                             .extended_usage = "clientAuth",
                             .key_usage = "critical,digitalSignature,keyEncipherment"},
                            client_key.get(), ca.get(), ca_key.get());
    const std::string client_cert_pem = pem_of(client.get());
    const std::string client_key_pem = pem_of(client_key.get());
    write_file(dir / CertNames::client_cert, client_cert_pem, 0644);
    write_file(dir / CertNames::client_key, client_key_pem, 0600);
    write_file(dir / CertNames::client_bundle, client_cert_pem + client_key_pem, 0600);

    write_file(dir / CertNames::ca_key, pem_of(ca_key.get()), 0600);
    write_file(dir / CertNames::ca, pem_of(ca.get()), 0644);
}

// Holds an exclusive flock(2) on a file for the lifetime of the object.
class DirLock
{
public:
    explicit DirLock(const std::filesystem::path& path)
        : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600))
    {
        if (fd_ < 0)
            fail_errno("cannot open", path);
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) {
                ::close(fd_);
                fail_errno("cannot lock", path);
            }
        }
    }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;
    ~DirLock() { ::close(fd_); } // closing releases the lock

private:
    int fd_;
};

} // namespace

std::optional<LeafKind> parse_leaf_kind(std::string_view text)
{
    if (text == "valid")
        return LeafKind::valid;
    if (text == "wrong-host")
        return LeafKind::wrong_host;
    if (text == "expired")
        return LeafKind::expired;
    if (text == "self-signed")
        return LeafKind::self_signed;
    return std::nullopt;
}

std::string CertNames::cert(LeafKind kind)
{
    switch (kind) {
    case LeafKind::valid:
        return "leaf.pem";
    case LeafKind::wrong_host:
        return "wrong-host.pem";
    case LeafKind::expired:
        return "expired.pem";
    case LeafKind::self_signed:
        return "self-signed.pem";
    }
    return "leaf.pem";
}

std::string CertNames::key(LeafKind kind)
{
    std::string name = cert(kind);
    name.insert(name.size() - 4, "-key"); // "leaf.pem" -> "leaf-key.pem"
    return name;
}

std::optional<std::string> ensure_test_certs(const std::filesystem::path& dir)
{
    try {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec)
            return "cannot create " + dir.string() + ": " + ec.message();
        const DirLock lock(dir / ".lock");
        const std::filesystem::path marker = dir / "complete";
        if (std::filesystem::exists(marker, ec))
            return std::nullopt;
        generate(dir);
        write_file(marker, "secrun test certificates\n", 0644);
        return std::nullopt;
    } catch (const std::exception& e) {
        return std::string("generating test certificates in ") + dir.string() + ": " + e.what();
    }
}

} // namespace secrun::fakes
