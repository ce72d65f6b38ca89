#include "auth/wiped_json.hpp"

#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

using secrun::auth::json_string;
using secrun::auth::parse_json_wiped;

BOOST_AUTO_TEST_SUITE(wiped_json)

BOOST_AUTO_TEST_CASE(parses_one_json_value)
{
    const auto document = parse_json_wiped(R"({"AccessKeyId":"AKIA","n":1,"list":["a",{"b":null}]})");
    BOOST_TEST_REQUIRE(document.has_value());
    BOOST_TEST_REQUIRE(document->is_object());
    BOOST_TEST(json_string(document->get_object(), "AccessKeyId").value_or("<none>") == "AKIA");
    BOOST_TEST(!json_string(document->get_object(), "n").has_value());
    BOOST_TEST(!json_string(document->get_object(), "missing").has_value());
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_exactly_one_json_value)
{
    BOOST_TEST(!parse_json_wiped("").has_value());
    BOOST_TEST(!parse_json_wiped(R"({"a":1} {"b":2})").has_value());
    BOOST_TEST(!parse_json_wiped(R"({"a":1,})").has_value());
}

// Regression (found by fuzz_aws_credentials_json and fuzz_aws_secrets_json):
// a document that fails after some values were built makes Boost.JSON free
// them with another alignment than they were allocated with; the resource
// used aligned new/delete and so freed with the wrong operator delete
// (AddressSanitizer: new-delete-type-mismatch; the asan preset catches it).
BOOST_AUTO_TEST_CASE(a_document_that_fails_half_way_is_freed_correctly)
{
    BOOST_TEST(!parse_json_wiped(R"({"Version":1,"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":)"
                                 R"("secret","SessionTokene:kto""n","Expiration":"2030"})")
                    .has_value());
    BOOST_TEST(!parse_json_wiped(R"({"Name":"prod/db","SecretString":"{\"password\":\"p@ss\"}",)"
                                 R"("VersionStages":["AWSCURRENT ],"CreatedDate":1.5E9})")
                    .has_value());
    std::string deep;
    for (int i = 0; i < 50; ++i)
        deep += R"({"k":["v",)";
    BOOST_TEST(!parse_json_wiped(deep).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
