#include "https/tls.hpp"

#include "util/strings.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <exception>
#include <system_error>

namespace secrun::https::tls {
namespace {

namespace ssl = boost::asio::ssl;
using util::quoted;
using util::str_cat;

std::string errno_text(int error) { return std::error_code(error, std::system_category()).message(); }

// The reason of OpenSSL's most recent error, and an empty error queue after.
std::string openssl_reason(std::string_view fallback)
{
    const unsigned long code = ::ERR_peek_last_error();
    const char* reason = code != 0 ? ::ERR_reason_error_string(code) : nullptr;
    std::string text = reason != nullptr ? reason : std::string(fallback);
    ::ERR_clear_error();
    return text;
}

Error load_error(std::string_view what, std::string_view path, std::string_view why)
{
    return Error(Errc::config,
                 str_cat(what, " ", quoted(path), ": cannot load CA certificates: ", why));
}

// An explicit file must be readable and hold at least one certificate.
Result<void> load_file(SSL_CTX* ctx, std::string_view what, const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return load_error(what, path, errno_text(errno));
    if (S_ISDIR(st.st_mode))
        return load_error(what, path, "it is a directory");
    if (::SSL_CTX_load_verify_file(ctx, path.c_str()) != 1)
        return load_error(what, path, openssl_reason("no certificate found"));
    return {};
}

// SSL_CERT_DIR: every ':'-separated entry must be a directory. Certificates
// in a hashed directory are read on demand during verification.
Result<void> add_dirs(SSL_CTX* ctx, const std::string& dirs)
{
    for (const auto dir : util::split(dirs, ':')) {
        if (dir.empty())
            continue;
        const std::string path(dir);
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
            return load_error("SSL_CERT_DIR", path, errno_text(errno));
        if (!S_ISDIR(st.st_mode))
            return load_error("SSL_CERT_DIR", path, "not a directory");
    }
    if (::SSL_CTX_load_verify_dir(ctx, dirs.c_str()) != 1)
        return load_error("SSL_CERT_DIR", dirs, openssl_reason("cannot use the directory"));
    return {};
}

bool exists(const char* path)
{
    struct stat st {};
    return path != nullptr && ::stat(path, &st) == 0;
}

bool is_ip_literal(const std::string& host)
{
    unsigned char buffer[16];
    return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

} // namespace

TrustSettings TrustSettings::from(const EnvMap& env, std::string ca_file)
{
    TrustSettings settings;
    settings.ca_file = std::move(ca_file);
    settings.cert_file = std::string(env.get_nonempty("SSL_CERT_FILE").value_or(""));
    settings.cert_dir = std::string(env.get_nonempty("SSL_CERT_DIR").value_or(""));
    return settings;
}

Result<std::unique_ptr<ssl::context>> make_context(const TrustSettings& settings)
{
    try {
        auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
        SSL_CTX* ctx = context->native_handle();
        if (::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
            return Error(Errc::internal, "cannot require TLS 1.2: " + openssl_reason("unknown"));
        context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
        context->set_verify_mode(ssl::verify_peer);

        // The system bundle and directory, unless the environment replaces them.
        if (!settings.cert_file.empty()) {
            if (auto r = load_file(ctx, "SSL_CERT_FILE", settings.cert_file); !r)
                return r.error();
        } else if (const char* file = ::X509_get_default_cert_file(); exists(file)) {
            if (::SSL_CTX_load_verify_file(ctx, file) != 1)
                ::ERR_clear_error(); // an unreadable system bundle: verification says why
        }
        if (!settings.cert_dir.empty()) {
            if (auto r = add_dirs(ctx, settings.cert_dir); !r)
                return r.error();
        } else if (const char* dir = ::X509_get_default_cert_dir(); exists(dir)) {
            if (::SSL_CTX_load_verify_dir(ctx, dir) != 1)
                ::ERR_clear_error();
        }
        if (!settings.ca_file.empty())
            if (auto r = load_file(ctx, "--ca-file", settings.ca_file); !r)
                return r.error();
        return context;
    } catch (const std::exception& e) {
        // ssl::context's constructor throws only when OpenSSL cannot allocate.
        return Error(Errc::internal, str_cat("cannot create the TLS context: ", e.what()));
    }
}

Result<void> set_peer_identity(ssl_st* ssl, const std::string& host)
{
    X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
    if (is_ip_literal(host)) {
        if (::X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
            return Error(Errc::internal, str_cat("cannot verify the TLS peer ", quoted(host)));
        return {};
    }
    ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (::X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1 ||
        // SSL_set_tlsext_host_name, without the macro's C-style cast.
        ::SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(host.c_str())) != 1) {
        ::ERR_clear_error();
        return Error(Errc::internal, str_cat("cannot verify the TLS peer ", quoted(host)));
    }
    return {};
}

std::string handshake_failure(ssl_st* ssl, const boost::system::error_code& ec)
{
    if (ssl != nullptr) {
        if (const long result = ::SSL_get_verify_result(ssl); result != X509_V_OK)
            return str_cat("certificate verify failed (", ::X509_verify_cert_error_string(result),
                           ")");
    }
    if (ec.category() == boost::asio::error::get_ssl_category()) {
        if (const char* reason = ::ERR_reason_error_string(
                static_cast<unsigned long>(static_cast<unsigned>(ec.value()))))
            return reason;
    }
    if (ec == ssl::error::stream_truncated)
        return "the server closed the connection";
    return ec.message();
}

bool is_verification_failure(ssl_st* ssl)
{
    return ssl != nullptr && ::SSL_get_verify_result(ssl) != X509_V_OK;
}

} // namespace secrun::https::tls
