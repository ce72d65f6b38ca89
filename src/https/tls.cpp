#include "https/tls.hpp"

#include "util/strings.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
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

bool exists(const std::string& path)
{
    struct stat st {};
    return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

// True when `dir` holds at least one c_rehash link ("1a2b3c4d.0").
bool is_hashed_directory(const std::string& dir)
{
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr)
        return false;
    bool hashed = false;
    while (const dirent* entry = ::readdir(handle)) {
        const std::string_view name = entry->d_name;
        const auto dot = name.find('.');
        if (dot != 8 || dot + 1 == name.size())
            continue;
        hashed = std::all_of(name.begin(), name.begin() + 8,
                             [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }) &&
                 std::all_of(name.begin() + 9, name.end(),
                             [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (hashed)
            break;
    }
    ::closedir(handle);
    return hashed;
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
    settings.system_file = ::X509_get_default_cert_file();
    settings.system_dir = ::X509_get_default_cert_dir();
    return settings;
}

Result<Context> make_context(const TrustSettings& settings, SystemBundle bundle)
{
    try {
        auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
        SSL_CTX* ctx = context->native_handle();
        if (::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
            return Error(Errc::internal, "cannot require TLS 1.2: " + openssl_reason("unknown"));
        context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
        context->set_verify_mode(ssl::verify_peer);

        // The system bundle and directory, unless the environment replaces them.
        Context out;
        const bool system_dir = settings.cert_dir.empty() && exists(settings.system_dir);
        if (!settings.cert_file.empty()) {
            if (auto r = load_file(ctx, "SSL_CERT_FILE", settings.cert_file); !r)
                return r.error();
        } else if (exists(settings.system_file)) {
            if (bundle == SystemBundle::when_needed && system_dir &&
                is_hashed_directory(settings.system_dir))
                out.bundle_skipped = true;
            else if (::SSL_CTX_load_verify_file(ctx, settings.system_file.c_str()) != 1)
                ::ERR_clear_error(); // an unreadable system bundle: verification says why
        }
        if (!settings.cert_dir.empty()) {
            if (auto r = add_dirs(ctx, settings.cert_dir); !r)
                return r.error();
        } else if (system_dir) {
            if (::SSL_CTX_load_verify_dir(ctx, settings.system_dir.c_str()) != 1)
                ::ERR_clear_error();
        }
        if (!settings.ca_file.empty())
            if (auto r = load_file(ctx, "--ca-file", settings.ca_file); !r)
                return r.error();
        out.ssl = std::move(context);
        return out;
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

bool is_untrusted_issuer(ssl_st* ssl)
{
    if (ssl == nullptr)
        return false;
    switch (::SSL_get_verify_result(ssl)) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return true;
    default:
        return false;
    }
}

} // namespace secrun::https::tls
