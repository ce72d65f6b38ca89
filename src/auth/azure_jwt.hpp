// Entra ID certificate credentials: the client certificate (PEM or PKCS#12)
// and the RS256-signed client assertion JWT (RFC 7523) made from it.
//
// The assertion follows the form MSAL has sent for years and Entra accepts:
// header {"alg":"RS256","typ":"JWT","x5t":<base64url SHA-1 of the DER
// certificate>} (+ "x5c" when the chain is sent), claims aud = the token
// endpoint, iss = sub = the client id, a random jti, nbf = iat = now,
// exp = now + 10 minutes. (Entra's newer documented form, PS256 with
// x5t#S256, is equivalent; RS256 + x5t is the most widely accepted.)
#pragma once

#include "error.hpp"
#include "secret.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::auth {

struct AssertionClaims;

class ClientCertificate {
public:
    ClientCertificate(ClientCertificate&&) noexcept;
    ClientCertificate& operator=(ClientCertificate&&) noexcept;
    ~ClientCertificate();

    /// base64url (no padding) SHA-1 of the DER certificate: the JWT "x5t" header.
    [[nodiscard]] const std::string& x5t() const noexcept { return x5t_; }
    /// base64url (no padding) SHA-256 of the DER certificate ("x5t#S256").
    [[nodiscard]] const std::string& x5t_s256() const noexcept { return x5t_s256_; }
    /// Standard base64 DER certificates, the one matching the key first ("x5c").
    [[nodiscard]] const std::vector<std::string>& chain() const noexcept { return chain_; }

private:
    struct Key; // the OpenSSL private key, kept out of this header
    explicit ClientCertificate(std::unique_ptr<Key> key);
    std::unique_ptr<Key> key_;
    std::string x5t_;
    std::string x5t_s256_;
    std::vector<std::string> chain_;

    friend Result<ClientCertificate> load_client_certificate(std::string_view, std::string_view,
                                                             std::string_view);
    friend Result<SecretString> make_client_assertion(const ClientCertificate&,
                                                      const AssertionClaims&);
};

/// Loads an RSA private key and its certificate from `contents`: PEM holding
/// the certificate (and any chain) plus the private key, in any order, the key
/// optionally encrypted with `password`; or DER PKCS#12 (.pfx). `path` is used
/// in messages only. Errors (Errc::config) name the path and say what is
/// missing or wrong, never the password.
[[nodiscard]] Result<ClientCertificate> load_client_certificate(std::string_view contents,
                                                                std::string_view password,
                                                                std::string_view path);

struct AssertionClaims {
    std::string client_id;
    std::string audience; // the exact token endpoint URL
    std::chrono::system_clock::time_point now;
    std::chrono::seconds lifetime{600};
    bool send_chain = false; // AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: add "x5c"
};

/// The signed JWT "header.claims.signature" (base64url segments). It is a
/// short-lived credential, hence a SecretString. Errc::internal when OpenSSL
/// fails to sign (not expected with a key load_client_certificate accepted).
[[nodiscard]] Result<SecretString> make_client_assertion(const ClientCertificate& certificate,
                                                         const AssertionClaims& claims);

/// A random version-4 GUID in lower-case 8-4-4-4-12 form (the JWT "jti").
[[nodiscard]] Result<std::string> random_guid();

} // namespace secrun::auth
