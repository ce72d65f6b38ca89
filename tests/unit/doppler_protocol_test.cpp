#include "backends/doppler_protocol.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace secrun;
namespace doppler = secrun::backends::doppler;

BOOST_AUTO_TEST_SUITE(doppler_protocol)

BOOST_AUTO_TEST_CASE(parses_a_download_with_its_project_and_config)
{
    const auto r = doppler::parse_download(
        R"({"API_KEY":"k3y-v@lue\n\u00e9","DOPPLER_PROJECT":"muse","DOPPLER_CONFIG":"prd","EMPTY":""})",
        "the service token's config");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->project == "muse");
    BOOST_TEST(r->config == "prd");
    BOOST_TEST(r->secrets.size() == 4u);
    BOOST_TEST(r->secrets.at("API_KEY").reveal() == "k3y-v@lue\n\xc3\xa9");
    BOOST_TEST(r->secrets.at("EMPTY").reveal() == "");
}

BOOST_AUTO_TEST_CASE(a_download_without_metadata_has_no_project_or_config)
{
    const auto r = doppler::parse_download(R"({"A":"1","A":"2"})", "muse/prd");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->project == "");
    BOOST_TEST(r->config == "");
    BOOST_TEST(r->secrets.at("A").reveal() == "2"); // the last one counts
}

BOOST_AUTO_TEST_CASE(refuses_a_download_that_is_not_an_object_of_strings)
{
    const auto nested = doppler::parse_download(R"({"A":{"B":"1"}})", "muse/prd");
    BOOST_TEST_REQUIRE(nested.has_error());
    BOOST_TEST((nested.error().code == Errc::bad_response));
    BOOST_TEST(nested.error().message ==
               "Doppler returned a value that is not a string for 'A' in muse/prd");
    const auto empty = doppler::parse_download("", "muse/prd");
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().message == "Doppler returned invalid JSON for muse/prd (incomplete JSON)");
}

BOOST_AUTO_TEST_CASE(server_messages_are_joined_cleaned_and_bounded)
{
    BOOST_TEST(doppler::server_messages(R"({"messages":["a\tb",7,"c"],"success":false})", "tok") ==
               "a b; c");
    BOOST_TEST(doppler::server_messages(R"({"messages":"not a list"})", "tok") == "");
    BOOST_TEST(doppler::server_messages("not json", "tok") == "");
    const std::string long_message = R"({"messages":[")" + std::string(400, 'x') + R"("]})";
    BOOST_TEST(doppler::server_messages(long_message, "tok") == std::string(300, 'x') + "...");
}

// Regression: a token that occurs in "[token]" itself (here "ok", or the
// string "[token]") made the redaction loop replace its own replacement
// forever.
BOOST_AUTO_TEST_CASE(redacting_a_token_that_occurs_in_the_replacement_terminates)
{
    BOOST_TEST(doppler::server_messages(R"({"messages":["bad token ok here"]})", "ok") ==
               "bad t[token]en [token] here");
    BOOST_TEST(doppler::server_messages(R"({"messages":["echo [token]"]})", "[token]") ==
               "echo [token]");
    BOOST_TEST(doppler::server_messages(R"({"messages":["aaaa"]})", "aa") == "[token][token]");
    BOOST_TEST(doppler::server_messages(R"({"messages":["no token"]})", "") == "no token");
}

BOOST_AUTO_TEST_CASE(plain_names_are_short_letters_digits_dashes_and_underscores)
{
    BOOST_TEST(doppler::is_plain_name("muse_prd-2"));
    BOOST_TEST(!doppler::is_plain_name(""));
    BOOST_TEST(!doppler::is_plain_name("a b"));
    BOOST_TEST(!doppler::is_plain_name("a/b"));
    BOOST_TEST(doppler::is_plain_name(std::string(100, 'a')));
    BOOST_TEST(!doppler::is_plain_name(std::string(101, 'a')));
}

BOOST_AUTO_TEST_SUITE_END()
