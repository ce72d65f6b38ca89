// A throwaway CA and server certificates for the HTTPS client tests, made
// with the OpenSSL API when the test starts (no committed keys, nothing expires).
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace secrun::testing {

enum class Leaf {
    good,       // SANs IP:127.0.0.1, DNS:localhost, DNS:proxied.example
    wrong_host, // SAN DNS:wrong.example only
};

class TestPki {
public:
    // Generates the CA and both leaves, and writes the CA to a private temp dir.
    // Throws std::runtime_error naming the OpenSSL step that failed.
    TestPki();
    ~TestPki();
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

    // PEM file holding the CA certificate.
    [[nodiscard]] const std::string& ca_file() const { return ca_file_; }
    // A hashed directory (c_rehash layout: <subject hash>.0) holding the CA.
    [[nodiscard]] const std::string& ca_dir() const { return ca_dir_; }
    // A TLS server context presenting `leaf` followed by the CA (the chain).
    [[nodiscard]] std::shared_ptr<boost::asio::ssl::context> server_context(Leaf leaf) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string dir_;
    std::string ca_file_;
    std::string ca_dir_;
};

// One PKI for the whole test run (key generation costs a few milliseconds).
[[nodiscard]] const TestPki& test_pki();

} // namespace secrun::testing
