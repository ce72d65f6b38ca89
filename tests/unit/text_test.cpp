#include "util/text.hpp"

#include <boost/test/unit_test.hpp>

#include <array>

using namespace secrun::util;
using namespace std::string_view_literals;

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(accepts_valid_utf8)
{
    BOOST_TEST(invalid_utf8_offset("") == std::string_view::npos);
    BOOST_TEST(invalid_utf8_offset("plain ascii") == std::string_view::npos);
    BOOST_TEST(invalid_utf8_offset("caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x94\x91 \xF4\x8F\xBF\xBF") ==
               std::string_view::npos);
}

BOOST_AUTO_TEST_CASE(finds_the_first_invalid_utf8_byte)
{
    BOOST_TEST(invalid_utf8_offset("ab\xFF") == 2u);              // never valid
    BOOST_TEST(invalid_utf8_offset("a\xC0\x80") == 1u);           // overlong NUL
    BOOST_TEST(invalid_utf8_offset("\xE0\x80\xAF") == 0u);        // overlong '/'
    BOOST_TEST(invalid_utf8_offset("x\xED\xA0\x80") == 1u);       // UTF-16 surrogate
    BOOST_TEST(invalid_utf8_offset("\xF4\x90\x80\x80") == 0u);    // above U+10FFFF
    BOOST_TEST(invalid_utf8_offset("ok\xE6\x97") == 2u);          // truncated at the end
    BOOST_TEST(invalid_utf8_offset("\xC3\xA9\x80") == 2u);        // stray continuation
    BOOST_TEST(invalid_utf8_offset("\xE6\x41\x41") == 0u);        // continuation missing
}

BOOST_AUTO_TEST_CASE(columns_count_code_points_from_one)
{
    BOOST_TEST(column_at("abc", 0) == 1u);
    BOOST_TEST(column_at("abc", 2) == 3u);
    BOOST_TEST(column_at("\xC3\xA9x", 2) == 2u); // after a two-byte 'é'
    BOOST_TEST(column_at("\xF0\x9F\x94\x91=", 4) == 2u);
    BOOST_TEST(column_at("ab", 99) == 3u); // clamped to the end of the line
}

BOOST_AUTO_TEST_CASE(describes_characters_for_messages)
{
    BOOST_TEST(describe_char("x") == "'x'");
    BOOST_TEST(describe_char("\x01rest") == "'\\x01'");
    BOOST_TEST(describe_char("\xC2\xA0") == "U+00A0");
    BOOST_TEST(describe_char("\xF0\x9F\x94\x91") == "U+1F511");
    BOOST_TEST(describe_char("\xFF") == "byte 0xff");
}

BOOST_AUTO_TEST_CASE(suggests_close_names_only)
{
    constexpr std::array<std::string_view, 4> backends = {"env", "azure_keyvault", "aws_secrets",
                                                          "doppler"};
    BOOST_TEST(did_you_mean("aws_secret", backends) == " (did you mean 'aws_secrets'?)");
    BOOST_TEST(did_you_mean("dopler", backends) == " (did you mean 'doppler'?)");
    BOOST_TEST(did_you_mean("AWS_SECRETS", backends) == " (did you mean 'aws_secrets'?)");
    BOOST_TEST(did_you_mean("aws", backends) == " (did you mean 'aws_secrets'?)");
    BOOST_TEST(did_you_mean("keyvault", backends) == " (did you mean 'azure_keyvault'?)");
    BOOST_TEST(did_you_mean("https", backends) == "");
    BOOST_TEST(did_you_mean("x", backends) == "");
    BOOST_TEST(did_you_mean("", backends) == "");
}

BOOST_AUTO_TEST_SUITE_END()
