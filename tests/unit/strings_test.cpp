#include "util/strings.hpp"

#include <boost/test/unit_test.hpp>

using namespace secrun::util;

BOOST_AUTO_TEST_SUITE(strings)

BOOST_AUTO_TEST_CASE(accepts_posix_names_only)
{
    BOOST_TEST(is_env_name("CH_HOST"));
    BOOST_TEST(is_env_name("_x9"));
    BOOST_TEST(!is_env_name(""));
    BOOST_TEST(!is_env_name("9X"));
    BOOST_TEST(!is_env_name("A-B"));
    BOOST_TEST(!is_env_name("A.B"));
}

BOOST_AUTO_TEST_CASE(edit_distance_counts_single_edits)
{
    BOOST_TEST(edit_distance("aws_secret", "aws_secrets") == 1u);
    BOOST_TEST(edit_distance("dopler", "doppler") == 1u);
    BOOST_TEST(edit_distance("", "env") == 3u);
    BOOST_TEST(edit_distance("env", "env") == 0u);
}

BOOST_AUTO_TEST_CASE(quoted_shows_control_characters_escaped)
{
    BOOST_TEST(quoted("a\nb") == "'a\\x0ab'");
    BOOST_TEST(quoted("plain") == "'plain'");
}

BOOST_AUTO_TEST_CASE(str_cat_and_trim)
{
    BOOST_TEST(str_cat("a", std::string("b"), std::string_view("c")) == "abc");
    BOOST_TEST(trim("  x y \t\r\n") == "x y");
    BOOST_TEST(split("a,,b", ',').size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
