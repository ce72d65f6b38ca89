// The trust store of https/tls.hpp, with the test CA standing in for the
// system bundle and hashed directory.
#include "https/tls.hpp"

#include <boost/test/unit_test.hpp>

#include "test_pki.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <filesystem>

using secrun::https::tls::Context;
using secrun::https::tls::make_context;
using secrun::https::tls::SystemBundle;
using secrun::https::tls::TrustSettings;
using secrun::testing::test_pki;

namespace {

// Certificates the store holds now (a hashed directory adds them on demand).
int loaded_certificates(const Context& context)
{
    X509_STORE* store = SSL_CTX_get_cert_store(context.ssl->native_handle());
    return sk_X509_OBJECT_num(X509_STORE_get0_objects(store));
}

TrustSettings system_paths(std::string file, std::string dir)
{
    TrustSettings settings;
    settings.system_file = std::move(file);
    settings.system_dir = std::move(dir);
    return settings;
}

// A directory with a certificate but no hash links (as /etc/pki/tls/certs).
std::string unhashed_dir() { return std::filesystem::path(test_pki().ca_file()).parent_path(); }

} // namespace

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(skips_the_system_bundle_when_the_system_directory_is_hashed)
{
    auto context = make_context(system_paths(test_pki().ca_file(), test_pki().ca_dir()));
    BOOST_TEST_REQUIRE(context.has_value());
    BOOST_TEST(context->bundle_skipped);
    BOOST_TEST(loaded_certificates(*context) == 0);
}

BOOST_AUTO_TEST_CASE(loads_the_system_bundle_when_asked_to)
{
    auto context = make_context(system_paths(test_pki().ca_file(), test_pki().ca_dir()),
                                SystemBundle::always);
    BOOST_TEST_REQUIRE(context.has_value());
    BOOST_TEST(!context->bundle_skipped);
    BOOST_TEST(loaded_certificates(*context) == 1);
}

BOOST_AUTO_TEST_CASE(loads_the_system_bundle_without_hash_links)
{
    auto unhashed = make_context(system_paths(test_pki().ca_file(), unhashed_dir()));
    BOOST_TEST_REQUIRE(unhashed.has_value());
    BOOST_TEST(!unhashed->bundle_skipped);
    BOOST_TEST(loaded_certificates(*unhashed) == 1);

    auto no_dir = make_context(system_paths(test_pki().ca_file(), "/nonexistent"));
    BOOST_TEST_REQUIRE(no_dir.has_value());
    BOOST_TEST(!no_dir->bundle_skipped);
    BOOST_TEST(loaded_certificates(*no_dir) == 1);
}

BOOST_AUTO_TEST_CASE(loads_the_system_bundle_when_ssl_cert_dir_replaces_the_directory)
{
    TrustSettings settings = system_paths(test_pki().ca_file(), test_pki().ca_dir());
    settings.cert_dir = test_pki().ca_dir();
    auto context = make_context(settings);
    BOOST_TEST_REQUIRE(context.has_value());
    BOOST_TEST(!context->bundle_skipped);
    BOOST_TEST(loaded_certificates(*context) == 1);
}

BOOST_AUTO_TEST_CASE(ssl_cert_file_replaces_the_system_bundle)
{
    TrustSettings settings = system_paths("/nonexistent/bundle.pem", "/nonexistent");
    settings.cert_file = test_pki().ca_file();
    auto context = make_context(settings);
    BOOST_TEST_REQUIRE(context.has_value());
    BOOST_TEST(!context->bundle_skipped);
    BOOST_TEST(loaded_certificates(*context) == 1);
}

BOOST_AUTO_TEST_CASE(requires_tls_1_2_and_peer_verification)
{
    auto context = make_context(system_paths("", ""));
    BOOST_TEST_REQUIRE(context.has_value());
    SSL_CTX* ctx = context->ssl->native_handle();
    BOOST_TEST(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
    BOOST_TEST((SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) != 0);
}

BOOST_AUTO_TEST_CASE(refuses_a_ca_file_without_certificates)
{
    TrustSettings settings = system_paths("", "");
    settings.ca_file = "/dev/null";
    auto context = make_context(settings);
    BOOST_TEST_REQUIRE(context.has_error());
    BOOST_TEST(context.error().message ==
               "--ca-file '/dev/null': cannot load CA certificates: no certificate or crl found");

    settings.ca_file = test_pki().ca_dir();
    auto dir = make_context(settings);
    BOOST_TEST_REQUIRE(dir.has_error());
    BOOST_TEST(dir.error().message ==
               "--ca-file '" + test_pki().ca_dir() + "': cannot load CA certificates: it is a "
                                                     "directory");
}

BOOST_AUTO_TEST_CASE(reads_the_trust_variables_from_the_env_map_only)
{
    const auto settings = TrustSettings::from(
        secrun::EnvMap(secrun::EnvMap::Map{{"SSL_CERT_FILE", "/f.pem"}, {"SSL_CERT_DIR", "/d"}}),
        "/ca.pem");
    BOOST_TEST(settings.cert_file == "/f.pem");
    BOOST_TEST(settings.cert_dir == "/d");
    BOOST_TEST(settings.ca_file == "/ca.pem");
    BOOST_TEST(settings.system_file == X509_get_default_cert_file());
    BOOST_TEST(settings.system_dir == X509_get_default_cert_dir());
}

BOOST_AUTO_TEST_SUITE_END()
