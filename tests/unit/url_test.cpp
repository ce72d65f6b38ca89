#include "https/client.hpp"

#include <boost/test/unit_test.hpp>

using secrun::https::Url;

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(parses_host_port_and_target)
{
    auto u = Url::parse("https://Vault.Azure.NET:8443/secrets/x?api-version=7.5");
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->scheme == "https");
    BOOST_TEST(u->host == "vault.azure.net");
    BOOST_TEST(u->port == "8443");
    BOOST_TEST(u->target == "/secrets/x?api-version=7.5");
    BOOST_TEST(u->origin() == "https://vault.azure.net:8443");
}

BOOST_AUTO_TEST_CASE(defaults_port_and_target)
{
    auto u = Url::parse("https://api.doppler.com");
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->port == "443");
    BOOST_TEST(u->target == "/");
    BOOST_TEST(u->origin() == "https://api.doppler.com");
}

BOOST_AUTO_TEST_CASE(parses_ipv6_literal)
{
    auto u = Url::parse("http://[fd00:ec2::254]/latest/api/token");
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->host == "fd00:ec2::254");
    BOOST_TEST(u->port == "80");
    BOOST_TEST(u->origin() == "http://[fd00:ec2::254]");
}

BOOST_AUTO_TEST_CASE(refuses_userinfo_other_schemes_and_bad_ports)
{
    BOOST_TEST(Url::parse("https://user:pw@host/").has_error());
    BOOST_TEST(Url::parse("ftp://host/").has_error());
    BOOST_TEST(Url::parse("https://host:0/").has_error());
    BOOST_TEST(Url::parse("https://host:99999/").has_error());
    BOOST_TEST(Url::parse("host/").has_error());
    auto e = Url::parse("https://user:pw@host/");
    BOOST_TEST(e.error().message ==
               "invalid URL 'https://user:pw@host/': credentials in a URL are not accepted");
}

BOOST_AUTO_TEST_SUITE_END()
