#include "https/proxy.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <vector>

using secrun::EnvMap;
using secrun::https::is_local_address;
using secrun::https::no_proxy_matches;
using secrun::https::parse_proxy_url;
using secrun::https::proxy_for;
using secrun::https::proxy_settings;
using secrun::https::Url;

namespace {

struct NoProxyCase {
    const char* host;
    const char* port;
    const char* list;
    bool match;
};
std::ostream& operator<<(std::ostream& os, const NoProxyCase& c)
{
    return os << c.host << ":" << c.port << " in \"" << c.list << '"';
}

struct LocalCase {
    const char* host;
    bool local;
};
std::ostream& operator<<(std::ostream& os, const LocalCase& c) { return os << c.host; }

struct BadUrlCase {
    const char* url;
    const char* message;
};
std::ostream& operator<<(std::ostream& os, const BadUrlCase& c) { return os << c.url; }

EnvMap env(EnvMap::Map vars) { return EnvMap(std::move(vars)); }

Url url(const char* text) { return Url::parse(text).value(); }

} // namespace

BOOST_AUTO_TEST_SUITE(proxy)

// curl's own table (tests/unit/unit1614.c), IPv6 hosts without brackets as
// Url::host holds them, then curl's documented rules and our port extension.
const std::vector<NoProxyCase> no_proxy_cases = {
    {"www.example.com", "443", "localhost,.example.com,.example.de", true},
    {"www.example.com.", "443", "localhost,.example.com,.example.de", true},
    {"example.com", "443", "localhost,.example.com,.example.de", true},
    {"example.com.", "443", "localhost,.example.com,.example.de", true},
    {"www.example.com", "443", "localhost,.example.com.,.example.de", true},
    {"www.example.com", "443", "localhost,www.example.com.,.example.de", true},
    {"example.com", "443", "localhost,example.com,.example.de", true},
    {"example.com.", "443", "localhost,example.com,.example.de", true},
    {"www.example.com", "443", "localhost,example.com,.example.de", true},
    {"127.0.0.1", "443", "127.0.0.1,localhost", true},
    {"127.0.0.1", "443", "127.0.0.1,localhost,", true},
    {"127.0.0.1", "443", "127.0.0.1/8,localhost,", true},
    {"127.0.0.1", "443", "127.0.0.1/28,localhost,", true},
    {"127.0.0.1", "443", "127.0.0.1/31,localhost,", true},
    {"127.0.0.1", "443", "localhost,127.0.0.1", true},
    {"127.0.0.1", "443",
     "localhost,127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1."
     "127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.",
     false},
    {"localhost", "443", "localhost,127.0.0.1", true},
    {"localhost", "443", "127.0.0.1,localhost", true},
    {"foobar", "443", "barfoo", false},
    {"foobar", "443", "foobar", true},
    {"192.168.0.1", "443", "foobar", false},
    {"192.168.0.1", "443", "192.168.0.0/16", true},
    {"192.168.0.1", "443", "192.168.0.0/24", true},
    {"192.168.0.1", "443", "192.168.0.0/32", false},
    {"192.168.0.1", "443", "192.168.0.0", false},
    {"192.168.1.1", "443", "192.168.0.0/24", false},
    {"192.168.1.1", "443", "foo, bar, 192.168.0.0/24", false},
    {"192.168.1.1", "443", "foo, bar, 192.168.0.0/16", true},
    {"::1", "443", "foo, bar, 192.168.0.0/16", false},
    {"::1", "443", "foo, bar, ::1/64", true},
    {"bar", "443", "foo, bar, ::1/64", true},
    {"BAr", "443", "foo, bar, ::1/64", true},
    {"BAr", "443", "foo,,,,,              bar, ::1/64", true},
    {"www.example.com", "443", "foo, .example.com", true},
    {"www.example.com", "443", "www2.example.com, .example.net", false},
    {"example.com", "443", ".example.com, .example.net", true},
    {"nonexample.com", "443", ".example.com, .example.net", false},
    // '*' alone means every host; inside a list it is not a wildcard (curl).
    {"anything.example", "443", "*", true},
    {"10.1.2.3", "443", " * ", true},
    {"example.com", "443", "*,other.example", false},
    {"other.example", "443", "*,other.example", true},
    {"example.com", "443", "", false},
    {"", "443", "*", false},
    // Case and label boundaries.
    {"WWW.Example.COM", "443", ".example.com", true},
    {"vault.azure.net", "443", "azure.net", true},
    {"myvault.azure.net.evil.com", "443", "azure.net", false},
    {"example.com", "443", ".", false},
    // Names never match addresses and addresses never match names.
    {"10.0.0.1", "443", "10.0.0.1.nip.io", false},
    {"ten.example", "443", "10.0.0.0/8", false},
    // CIDR edge cases.
    {"10.200.3.4", "443", "10.0.0.0/8", true},
    {"11.0.0.1", "443", "10.0.0.0/8", false},
    {"10.0.0.1", "443", "0.0.0.0/0", true},
    {"10.0.0.1", "443", "10.0.0.0/33", false},
    {"10.0.0.1", "443", "10.0.0.0/x", false},
    {"fd00:ec2::254", "443", "fd00::/8", true},
    {"fe80::1", "443", "fd00::/8", false},
    {"::ffff:10.0.0.1", "443", "10.0.0.0/8", true},
    // Ports (beyond curl, as Go does): the entry matches that port only.
    {"example.com", "443", "example.com:443", true},
    {"example.com", "8443", "example.com:443", false},
    {"www.example.com", "8443", ".example.com:8443", true},
    {"10.1.2.3", "443", "10.1.2.3:443", true},
    {"10.1.2.3", "80", "10.1.2.3:443", false},
    {"::1", "443", "[::1]:443", true},
    {"::1", "80", "[::1]:443", false},
    {"::1", "80", "[::1]", true},
};

BOOST_DATA_TEST_CASE(no_proxy_table, boost::unit_test::data::make(no_proxy_cases), c)
{
    BOOST_TEST(no_proxy_matches(c.list, c.host, c.port) == c.match);
}

const std::vector<LocalCase> local_cases = {
    {"localhost", true},        {"LocalHost.", true},      {"127.0.0.1", true},
    {"127.255.0.9", true},      {"::1", true},             {"169.254.169.254", true},
    {"169.254.170.2", true},    {"fd00:ec2::254", true},   {"fd00:ec2::23", true},
    {"fe80::1", true},          {"febf::1", true},         {"::ffff:127.0.0.1", true},
    {"fec0::1", false},         {"fd00:ec2::255", false},  {"169.255.0.1", false},
    {"10.0.0.1", false},        {"0.0.0.0", false},        {"::", false},
    {"localhost.example", false}, {"metadata.google.internal", false}, {"", false},
};

BOOST_DATA_TEST_CASE(local_address_table, boost::unit_test::data::make(local_cases), c)
{
    BOOST_TEST(is_local_address(c.host) == c.local);
}

BOOST_AUTO_TEST_CASE(parses_proxy_url_with_percent_encoded_credentials)
{
    auto p = parse_proxy_url("http://user:p%40ss@Proxy.Corp:3128/");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->host == "proxy.corp");
    BOOST_TEST(p->port == "3128");
    BOOST_TEST(p->authorization == "Basic dXNlcjpwQHNz"); // user:p@ss
    BOOST_TEST(p->display() == "http://proxy.corp:3128");
}

BOOST_AUTO_TEST_CASE(proxy_url_defaults_like_curl)
{
    auto bare = parse_proxy_url("proxy.corp");
    BOOST_TEST_REQUIRE(bare.has_value());
    BOOST_TEST(bare->port == "1080");
    BOOST_TEST(bare->authorization.empty());

    auto user_only = parse_proxy_url("http://user@proxy.corp:8080");
    BOOST_TEST_REQUIRE(user_only.has_value());
    BOOST_TEST(user_only->authorization == "Basic dXNlcjo="); // user:

    auto v6 = parse_proxy_url("http://[::1]:3128");
    BOOST_TEST_REQUIRE(v6.has_value());
    BOOST_TEST(v6->host == "::1");
    BOOST_TEST(v6->display() == "http://[::1]:3128");

    auto colon_in_password = parse_proxy_url("http://a:b:c@h:1");
    BOOST_TEST_REQUIRE(colon_in_password.has_value());
    BOOST_TEST(colon_in_password->authorization == "Basic YTpiOmM="); // a:b:c
}

const std::vector<BadUrlCase> bad_url_cases = {
    {"https://proxy:3128",
     "invalid proxy URL 'https://proxy:3128': https:// proxies (TLS to the proxy) are not "
     "supported; use http://"},
    {"socks5h://proxy:1080",
     "invalid proxy URL 'socks5h://proxy:1080': SOCKS proxies are not supported; use an "
     "http:// proxy"},
    {"ftp://proxy:21", "invalid proxy URL 'ftp://proxy:21': unsupported scheme 'ftp'; use http://"},
    {"http://:3128", "invalid proxy URL 'http://:3128': no host"},
    {"http://proxy:0", "invalid proxy URL 'http://proxy:0': invalid port"},
    {"http://proxy:99999", "invalid proxy URL 'http://proxy:99999': invalid port"},
    {"http://[::1:3128", "invalid proxy URL 'http://[::1:3128': malformed host"},
    // Credentials never reach a message.
    {"http://user:s3cret@proxy:x", "invalid proxy URL 'http://***@proxy:x': invalid port"},
    {"user:s3cret@proxy:x", "invalid proxy URL '***@proxy:x': invalid port"},
    {"http://us%zzer:s3cret@proxy:1",
     "invalid proxy URL 'http://***@proxy:1': invalid percent-encoding in the credentials"},
};

BOOST_DATA_TEST_CASE(rejects_bad_proxy_urls, boost::unit_test::data::make(bad_url_cases), c)
{
    auto p = parse_proxy_url(c.url);
    BOOST_TEST_REQUIRE(p.has_error());
    BOOST_TEST(p.error().message == c.message);
}

BOOST_AUTO_TEST_CASE(lowercase_variables_win_as_in_curl)
{
    auto both = proxy_settings(env({{"https_proxy", "http://lower:1"},
                                    {"HTTPS_PROXY", "http://upper:2"},
                                    {"no_proxy", "a.example"},
                                    {"NO_PROXY", "b.example"}}));
    BOOST_TEST_REQUIRE(both.has_value());
    BOOST_TEST_REQUIRE(both->https_proxy.has_value());
    BOOST_TEST(both->https_proxy->host == "lower");
    BOOST_TEST(both->no_proxy == "a.example");

    auto upper = proxy_settings(env({{"HTTPS_PROXY", "http://upper:2"}, {"NO_PROXY", "*"}}));
    BOOST_TEST_REQUIRE(upper.has_value());
    BOOST_TEST(upper->https_proxy->host == "upper");
    BOOST_TEST(upper->no_proxy == "*");

    // Set but empty still wins: no proxy at all.
    auto blocked = proxy_settings(env({{"https_proxy", ""}, {"HTTPS_PROXY", "http://upper:2"}}));
    BOOST_TEST_REQUIRE(blocked.has_value());
    BOOST_TEST(!blocked->https_proxy.has_value());

    auto none = proxy_settings(env({{"http_proxy", "http://plain:3"}}));
    BOOST_TEST_REQUIRE(none.has_value());
    BOOST_TEST(!none->https_proxy.has_value());
}

BOOST_AUTO_TEST_CASE(names_the_variable_of_a_bad_proxy)
{
    auto bad = proxy_settings(env({{"HTTPS_PROXY", "http://user:pw@proxy:bad"}}));
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().message ==
               "HTTPS_PROXY: invalid proxy URL 'http://***@proxy:bad': invalid port");
    BOOST_TEST((bad.error().code == secrun::Errc::config));

    auto lower = proxy_settings(env({{"https_proxy", "https://proxy"}}));
    BOOST_TEST_REQUIRE(lower.has_error());
    BOOST_TEST(lower.error().message ==
               "https_proxy: invalid proxy URL 'https://proxy': https:// proxies (TLS to the "
               "proxy) are not supported; use http://");
}

BOOST_AUTO_TEST_CASE(chooses_the_proxy_per_url)
{
    auto settings = proxy_settings(
        env({{"HTTPS_PROXY", "http://proxy:3128"}, {"NO_PROXY", ".internal,10.0.0.0/8"}}));
    BOOST_TEST_REQUIRE(settings.has_value());
    BOOST_TEST(proxy_for(*settings, url("https://vault.azure.net/")) != nullptr);
    BOOST_TEST(proxy_for(*settings, url("https://vault.internal/")) == nullptr);
    BOOST_TEST(proxy_for(*settings, url("https://10.2.3.4/")) == nullptr);
    // Metadata and loopback are reached directly whatever NO_PROXY says (SDKs, Go).
    BOOST_TEST(proxy_for(*settings, url("https://127.0.0.1:8443/")) == nullptr);
    BOOST_TEST(proxy_for(*settings, url("https://localhost:8443/")) == nullptr);
    BOOST_TEST(proxy_for(*settings, url("http://169.254.169.254/latest")) == nullptr);
    BOOST_TEST(proxy_for(*settings, url("https://[fd00:ec2::254]/")) == nullptr);
    // HTTPS_PROXY is for https only.
    BOOST_TEST(proxy_for(*settings, url("http://example.com/")) == nullptr);

    auto direct = proxy_settings(env({}));
    BOOST_TEST_REQUIRE(direct.has_value());
    BOOST_TEST(proxy_for(*direct, url("https://vault.azure.net/")) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
