#include "https/client.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

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

// Regression (found by fuzz_url): a host with ':' or brackets outside an
// IPv6 literal was accepted, and origin() then wrote a URL that does not
// parse ("http://[:ec2::254]]:80").
BOOST_AUTO_TEST_CASE(refuses_hosts_that_are_neither_names_nor_addresses)
{
    const auto message = [](std::string_view text) {
        auto u = Url::parse(text);
        return u ? std::string("parsed") : u.error().message;
    };
    BOOST_TEST(message("http://:ec2::254]:80/latest/api/token") ==
               "invalid URL 'http://:ec2::254]:80/latest/api/token': invalid host");
    BOOST_TEST(message("https://a:b:443/") == "invalid URL 'https://a:b:443/': invalid host");
    BOOST_TEST(message("https://ho st/") == "invalid URL 'https://ho st/': invalid host");
    BOOST_TEST(message("https://[fd00::1%eth0]/") ==
               "invalid URL 'https://[fd00::1%eth0]/': invalid IPv6 address");
    BOOST_TEST(message("https://[v1.x]/") == "invalid URL 'https://[v1.x]/': invalid IPv6 address");
    BOOST_TEST(message("https://[]/") == "invalid URL 'https://[]/': no host");
    auto mapped = Url::parse("https://[::FFFF:169.254.169.254]:8443/");
    BOOST_TEST_REQUIRE(mapped.has_value());
    BOOST_TEST(mapped->host == "::ffff:169.254.169.254");
    BOOST_TEST(Url::parse(mapped->origin() + mapped->target)->host == mapped->host);
}

BOOST_AUTO_TEST_SUITE_END()
