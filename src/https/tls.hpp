// TLS client settings: the trust store, TLS 1.2 minimum, and per-connection
// peer verification (SNI, host name or IP address checked by OpenSSL).
//
// Only beast_client.cpp uses this; the asio and OpenSSL types are declared,
// not included, so that the header stays light.
#pragma once

#include "env_map.hpp"
#include "error.hpp"

#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
}
struct ssl_st; // OpenSSL's SSL

namespace secrun::https::tls {

// Where trusted CA certificates come from. Like OpenSSL's
// set_default_verify_paths(), SSL_CERT_FILE replaces the system bundle and
// SSL_CERT_DIR the system directory (a ':'-separated list); but they are read
// from the EnvMap given, not from the process environment. --ca-file adds to
// whatever else is trusted.
struct TrustSettings {
    std::string ca_file;   // --ca-file (empty: none)
    std::string cert_file; // SSL_CERT_FILE (empty: the system bundle)
    std::string cert_dir;  // SSL_CERT_DIR (empty: the system directory)
    // OpenSSL's compiled-in defaults (/usr/lib/ssl/cert.pem, /usr/lib/ssl/certs
    // on Debian); fields so that tests can point them elsewhere.
    std::string system_file;
    std::string system_dir;

    [[nodiscard]] static TrustSettings from(const EnvMap& env, std::string ca_file);
};

enum class SystemBundle {
    when_needed, // skip the bundle file when the system directory is hashed
    always,
};

struct Context {
    std::unique_ptr<boost::asio::ssl::context> ssl;
    // The system bundle file was not loaded (see make_context).
    bool bundle_skipped = false;
};

/// A client context: TLS 1.2 or newer, verify_peer, the trust store above.
///
/// Start-up cost: parsing the system bundle (~140 PEM certificates) costs
/// about 20 ms of CPU with OpenSSL 3, while a hashed directory (c_rehash
/// layout) costs nothing until a handshake looks up one issuer. So with
/// SystemBundle::when_needed the bundle is skipped when the system directory
/// holds hash links (Debian, Ubuntu and Alpine's update-ca-certificates write
/// the same certificates to both) and `bundle_skipped` is set; when a
/// handshake then fails with is_untrusted_issuer(), make the context again
/// with SystemBundle::always and retry once (a CA appended to the bundle by
/// hand is only there). Without hash links (RHEL, distroless) the bundle is
/// loaded at once.
///
/// Call this on the first https request, not at start-up. Fails with
/// Errc::config when an explicit SSL_CERT_FILE, SSL_CERT_DIR entry or
/// --ca-file cannot be read or holds no certificate ("--ca-file '/x': cannot
/// load CA certificates: No such file or directory"). A missing system bundle
/// is not an error (verification fails later, with the reason).
[[nodiscard]] Result<Context> make_context(const TrustSettings& settings,
                                           SystemBundle bundle = SystemBundle::when_needed);

/// Prepares a new connection's SSL object before the handshake: SNI for host
/// names (RFC 6066 forbids it for IP literals) and the identity OpenSSL checks
/// during verification: X509_VERIFY_PARAM_set1_host for names (no partial
/// wildcards), X509_VERIFY_PARAM_set1_ip_asc for IP literals (matched against
/// IP SANs only). Fails with Errc::internal only when OpenSSL refuses the value.
///
/// asio's host_name_verification callback (1.81) does check IP SANs
/// (X509_check_ip_asc), but it fails the handshake without recording why:
/// the verify result stays X509_V_OK. With the checks done by OpenSSL itself,
/// a mismatch reports "hostname mismatch" / "IP address mismatch".
[[nodiscard]] Result<void> set_peer_identity(ssl_st* ssl, const std::string& host);

/// Why a TLS handshake failed, for "TLS handshake with https://h failed: ...":
/// "certificate verify failed (self-signed certificate in certificate chain)"
/// when the peer was not trusted (X509_verify_cert_error_string of the
/// verify result), OpenSSL's reason for other TLS errors ("wrong version
/// number"), ec.message() for everything else.
[[nodiscard]] std::string handshake_failure(ssl_st* ssl, const boost::system::error_code& ec);

/// True when a handshake failure means the peer is not trusted or not who it
/// claims to be (another attempt cannot help).
[[nodiscard]] bool is_verification_failure(ssl_st* ssl);

/// True when verification failed for want of a trusted issuer (unable to get
/// the issuer, self-signed certificate or self-signed root in the chain): a
/// fuller trust store might succeed.
[[nodiscard]] bool is_untrusted_issuer(ssl_st* ssl);

} // namespace secrun::https::tls
