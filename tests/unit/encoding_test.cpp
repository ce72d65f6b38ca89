#include "util/encoding.hpp"

#include <boost/test/unit_test.hpp>

using namespace secrun::util;

BOOST_AUTO_TEST_SUITE(encoding)

BOOST_AUTO_TEST_CASE(base64_round_trips_rfc4648_vectors)
{
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        BOOST_TEST(base64_encode(plain) == encoded);
        BOOST_TEST(base64_decode(encoded).value() == plain);
    }
}

BOOST_AUTO_TEST_CASE(base64_decode_refuses_malformed_input)
{
    BOOST_TEST(!base64_decode("Zg").has_value());      // padding required
    BOOST_TEST(!base64_decode("Z===").has_value());
    BOOST_TEST(!base64_decode("Zm9v\n").has_value());  // no whitespace
    BOOST_TEST(!base64_decode("Zh==").has_value());    // non-canonical trailing bits
    BOOST_TEST(!base64_decode("Zm-v").has_value());    // url alphabet
}

BOOST_AUTO_TEST_CASE(base64url_has_no_padding_and_url_alphabet)
{
    BOOST_TEST(base64url_encode(std::string("\xfb\xff", 2)) == "-_8");
    BOOST_TEST(base64url_decode("-_8").value() == std::string("\xfb\xff", 2));
    BOOST_TEST(base64url_decode("Zg==").value() == "f");
}

BOOST_AUTO_TEST_CASE(binary_bytes_survive)
{
    const std::string bytes("\0\x01\x80\xff", 4);
    BOOST_TEST(base64_decode(base64_encode(bytes)).value() == bytes);
    BOOST_TEST(hex_lower(bytes) == "000180ff");
}

BOOST_AUTO_TEST_CASE(percent_encoding)
{
    BOOST_TEST(percent_encode("a b/c~") == "a%20b%2Fc~");
    BOOST_TEST(percent_encode("a b/c", true) == "a%20b/c");
    BOOST_TEST(percent_decode("a%20b%2f").value() == "a b/");
    BOOST_TEST(!percent_decode("%2").has_value());
    BOOST_TEST(!percent_decode("%zz").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
