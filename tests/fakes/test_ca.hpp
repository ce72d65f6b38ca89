// A throwaway certificate authority for the loopback fakes, generated with the
// OpenSSL 3 API at fixture start-up: no committed keys, no `openssl` CLI.
//
// ensure_test_certs(dir) writes these PEM files (keys are mode 0600):
//
//   ca.pem, ca-key.pem                  the test CA (EC P-256, CA:TRUE, 10 years)
//   leaf.pem, leaf-key.pem              signed by the CA; SANs IP:127.0.0.1, IP:::1,
//                                       DNS:localhost, DNS:*.fake-cloud.test (names
//                                       only the fake's proxy resolves); serverAuth
//   wrong-host.pem, wrong-host-key.pem  signed by the CA; SAN DNS:wrong.example only
//   expired.pem, expired-key.pem        signed by the CA; the loopback SANs; expired
//                                       yesterday (valid from 30 days ago)
//   self-signed.pem, self-signed-key.pem  the loopback SANs, but issued by itself
//   client.pem                          RSA-2048 client certificate followed by its
//                                       key, the single-file form
//                                       AZURE_CLIENT_CERTIFICATE_PATH expects
//   client-cert.pem, client-key.pem     the same certificate and key, separately
//
// The files are written once per directory: a later call finds the marker
// file `complete` and returns at once. Concurrent callers (several fake
// servers started on one shared directory) are serialised with flock(2) on
// `DIR/.lock`, so nobody ever reads a CA that does not match its leaf.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::fakes
{

// Which server certificate a fake presents.
enum class LeafKind { valid, wrong_host, expired, self_signed };

// Parses "valid", "wrong-host", "expired", "self-signed".
[[nodiscard]] std::optional<LeafKind> parse_leaf_kind(std::string_view text);

// File names inside the certificate directory.
struct CertNames {
    static constexpr std::string_view ca = "ca.pem";
    static constexpr std::string_view ca_key = "ca-key.pem";
    static constexpr std::string_view client_bundle = "client.pem";
    static constexpr std::string_view client_cert = "client-cert.pem";
    static constexpr std::string_view client_key = "client-key.pem";
    // "leaf.pem", "wrong-host.pem", "expired.pem", "self-signed.pem".
    [[nodiscard]] static std::string cert(LeafKind kind);
    // "leaf-key.pem", ...
    [[nodiscard]] static std::string key(LeafKind kind);
};

// Creates `dir` if needed and generates every file listed above unless they
// already exist. Returns an error message (naming the file and the OpenSSL
// or errno reason), or nullopt on success.
[[nodiscard]] std::optional<std::string> ensure_test_certs(const std::filesystem::path& dir);

} // namespace secrun::fakes
