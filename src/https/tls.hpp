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

    [[nodiscard]] static TrustSettings from(const EnvMap& env, std::string ca_file);
};

/// A client context: TLS 1.2 or newer, verify_peer, the trust store above.
/// Loading the system bundle costs milliseconds, so call this on the first
/// https request, not at start-up. Fails with Errc::config when an explicit
/// SSL_CERT_FILE, SSL_CERT_DIR entry or --ca-file cannot be read or holds no
/// certificate ("--ca-file '/x': cannot load CA certificates: no such file").
/// A missing system bundle is not an error (verification fails later, with
/// the reason).
[[nodiscard]] Result<std::unique_ptr<boost::asio::ssl::context>>
make_context(const TrustSettings& settings);

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

} // namespace secrun::https::tls
