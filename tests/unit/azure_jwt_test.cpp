#include "auth/azure_jwt.hpp"

#include "azure_test_support.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>

using namespace secrun;
using secrun::testing::rsa_certificate;
namespace json = boost::json;

namespace {

const std::chrono::system_clock::time_point t0{std::chrono::seconds(1700000000)};

auth::ClientCertificate load(const std::string& contents, const std::string& password = {})
{
    auto loaded = auth::load_client_certificate(contents, password, "/etc/cert.pem");
    if (!loaded)
        throw std::runtime_error(loaded.error().message);
    return std::move(*loaded);
}

std::string load_error(const std::string& contents, const std::string& password = {})
{
    auto loaded = auth::load_client_certificate(contents, password, "/etc/cert.pem");
    return loaded ? std::string("(loaded)") : loaded.error().message;
}

auth::AssertionClaims claims()
{
    auth::AssertionClaims c;
    c.client_id = "client-1";
    c.audience = "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token";
    c.now = t0;
    return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(azure_jwt)

BOOST_AUTO_TEST_CASE(loads_pem_certificate_and_key_in_either_order)
{
    const auto& cert = rsa_certificate();
    for (const auto& pem : {cert.cert_pem() + cert.key_pem(), cert.key_pem() + cert.cert_pem()}) {
        const auto loaded = load(pem);
        BOOST_TEST(loaded.x5t() == cert.thumbprint(EVP_sha1()));
        BOOST_TEST(loaded.x5t_s256() == cert.thumbprint(EVP_sha256()));
        BOOST_TEST_REQUIRE(loaded.chain().size() == 1u);
        BOOST_TEST(loaded.chain()[0] == util::base64_encode(cert.der()));
    }
}

BOOST_AUTO_TEST_CASE(puts_the_certificate_matching_the_key_first)
{
    const auto& cert = rsa_certificate();
    const testing::TestCertificate other(true, "issuer");
    const auto loaded = load(other.cert_pem() + cert.cert_pem() + cert.key_pem());
    BOOST_TEST(loaded.x5t() == cert.thumbprint(EVP_sha1()));
    BOOST_TEST_REQUIRE(loaded.chain().size() == 2u);
    BOOST_TEST(loaded.chain()[0] == util::base64_encode(cert.der()));
    BOOST_TEST(loaded.chain()[1] == util::base64_encode(other.der()));
}

BOOST_AUTO_TEST_CASE(decrypts_an_encrypted_key_with_the_password)
{
    const auto& cert = rsa_certificate();
    const auto loaded = load(cert.cert_pem() + cert.key_pem("s3cret pass"), "s3cret pass");
    BOOST_TEST(loaded.x5t() == cert.thumbprint(EVP_sha1()));
}

BOOST_AUTO_TEST_CASE(explains_a_missing_or_wrong_password)
{
    const auto& cert = rsa_certificate();
    const std::string pem = cert.cert_pem() + cert.key_pem("right");
    BOOST_TEST(load_error(pem) == "certificate '/etc/cert.pem': the private key is encrypted: set "
                                  "AZURE_CLIENT_CERTIFICATE_PASSWORD");
    BOOST_TEST(load_error(pem, "wrong") == "certificate '/etc/cert.pem': cannot decrypt the private "
                                           "key (wrong AZURE_CLIENT_CERTIFICATE_PASSWORD?)");
}

BOOST_AUTO_TEST_CASE(loads_pkcs12)
{
    const auto& cert = rsa_certificate();
    const auto loaded = load(cert.pkcs12("pfx-pass"), "pfx-pass");
    BOOST_TEST(loaded.x5t() == cert.thumbprint(EVP_sha1()));
    BOOST_TEST(load_error(cert.pkcs12("pfx-pass"), "nope") ==
               "certificate '/etc/cert.pem': cannot open the PKCS#12 file (wrong "
               "AZURE_CLIENT_CERTIFICATE_PASSWORD?)");
}

BOOST_AUTO_TEST_CASE(rejects_incomplete_or_mismatched_files)
{
    const auto& cert = rsa_certificate();
    const testing::TestCertificate other;
    BOOST_TEST(load_error(cert.cert_pem()) ==
               "certificate '/etc/cert.pem': no private key found (the file must hold the PEM "
               "certificate and its private key)");
    BOOST_TEST(load_error(cert.key_pem()) == "certificate '/etc/cert.pem': no certificate found");
    BOOST_TEST(load_error(other.cert_pem() + cert.key_pem()) ==
               "certificate '/etc/cert.pem': no certificate in the file matches its private key");
    BOOST_TEST(load_error("not a certificate") ==
               "certificate '/etc/cert.pem': neither PEM nor PKCS#12");
    const testing::TestCertificate ec(false);
    BOOST_TEST(load_error(ec.cert_pem() + ec.key_pem()) ==
               "certificate '/etc/cert.pem': the private key is not an RSA key (Entra ID "
               "certificate credentials use RSA)");
}

BOOST_AUTO_TEST_CASE(signs_an_rs256_assertion_with_x5t)
{
    const auto& cert = rsa_certificate();
    const auto loaded = load(cert.cert_pem() + cert.key_pem());
    auto jwt = auth::make_client_assertion(loaded, claims());
    BOOST_TEST_REQUIRE(jwt.has_value());
    const std::string token(jwt->reveal());

    const auto parts = testing::decode_jwt(token);
    BOOST_TEST(parts.header ==
               R"({"alg":"RS256","typ":"JWT","x5t":")" + cert.thumbprint(EVP_sha1()) + R"("})");
    const json::object payload = json::parse(parts.payload).as_object();
    BOOST_TEST(payload.size() == 7u);
    BOOST_TEST(payload.at("aud").as_string() ==
               "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token");
    BOOST_TEST(payload.at("iss").as_string() == "client-1");
    BOOST_TEST(payload.at("sub").as_string() == "client-1");
    BOOST_TEST(payload.at("nbf").as_int64() == 1700000000);
    BOOST_TEST(payload.at("iat").as_int64() == 1700000000);
    BOOST_TEST(payload.at("exp").as_int64() == 1700000600);
    const std::string jti(payload.at("jti").as_string());
    BOOST_TEST(std::regex_match(jti, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));

    BOOST_TEST(cert.verifies_rs256(token));
    // The check above is not vacuous: a changed claim breaks the signature.
    std::string tampered = token;
    tampered[tampered.find('.') + 2] ^= 1;
    BOOST_TEST(!cert.verifies_rs256(tampered));
    const testing::TestCertificate other;
    BOOST_TEST(!other.verifies_rs256(token));
}

BOOST_AUTO_TEST_CASE(adds_x5c_when_the_chain_is_sent)
{
    const auto& cert = rsa_certificate();
    const auto loaded = load(cert.cert_pem() + cert.key_pem());
    auto c = claims();
    c.send_chain = true;
    auto jwt = auth::make_client_assertion(loaded, c);
    BOOST_TEST_REQUIRE(jwt.has_value());
    const auto header = json::parse(testing::decode_jwt(jwt->reveal()).header).as_object();
    BOOST_TEST_REQUIRE(header.at("x5c").as_array().size() == 1u);
    BOOST_TEST(header.at("x5c").as_array()[0].as_string() == util::base64_encode(cert.der()));
    BOOST_TEST(cert.verifies_rs256(jwt->reveal()));
}

BOOST_AUTO_TEST_CASE(makes_distinct_version_4_guids)
{
    auto a = auth::random_guid();
    auto b = auth::random_guid();
    BOOST_TEST_REQUIRE((a.has_value() && b.has_value()));
    BOOST_TEST(*a != *b);
    BOOST_TEST(a->size() == 36u);
    BOOST_TEST((*a)[14] == '4');
}

BOOST_AUTO_TEST_SUITE_END()
