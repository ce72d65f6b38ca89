#include "manifest/manifest.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

namespace data = boost::unit_test::data;
using secrun::manifest::parse_reference;
using secrun::manifest::Reference;

namespace {

struct Good {
    std::string_view text;
    std::string_view backend;
    std::string_view key;
    std::string_view version;
    std::string_view stage;
    std::string_view field;
    std::string_view canonical; // Reference::to_string()
};

std::ostream& operator<<(std::ostream& os, const Good& g) { return os << g.text; }

const Good good_references[] = {
    // text                                   backend           key              version  stage          field        canonical
    {"CH_HOST", "", "CH_HOST", "", "", "", "CH_HOST"},
    {"dd-api-key", "", "dd-api-key", "", "", "", "dd-api-key"},
    {"aws_secrets://prod/db#username", "aws_secrets", "prod/db", "", "", "username",
     "aws_secrets://prod/db#username"},
    {"aws_secrets://prod/token?stage=AWSPREVIOUS", "aws_secrets", "prod/token", "", "AWSPREVIOUS", "",
     "aws_secrets://prod/token?stage=AWSPREVIOUS"},
    {"azure_keyvault://tls-cert?version=0123abcd", "azure_keyvault", "tls-cert", "0123abcd", "", "",
     "azure_keyvault://tls-cert?version=0123abcd"},
    {"env://DB_URL", "env", "DB_URL", "", "", "", "env://DB_URL"},
    {"doppler://STRIPE_KEY#live.secret", "doppler", "STRIPE_KEY", "", "", "live.secret",
     "doppler://STRIPE_KEY#live.secret"},
    // An ARN is a key: its ':' do not make a scheme.
    {"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", "",
     "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", "", "", "",
     "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"},
    {"aws_secrets://arn:aws:secretsmanager:eu-west-1:1:secret:x-Ab12#a.b.c", "aws_secrets",
     "arn:aws:secretsmanager:eu-west-1:1:secret:x-Ab12", "", "", "a.b.c",
     "aws_secrets://arn:aws:secretsmanager:eu-west-1:1:secret:x-Ab12#a.b.c"},
    {"aws_secrets://team+x=y.z@corp/app_1", "aws_secrets", "team+x=y.z@corp/app_1", "", "", "",
     "aws_secrets://team+x=y.z@corp/app_1"},
    // Options: both accepted without a backend, stored in canonical order,
    // percent-decoded, and encoded again only where needed.
    {"k?stage=S&version=V", "", "k", "V", "S", "", "k?version=V&stage=S"},
    {"aws_secrets://k?stage=AWS%43URRENT", "aws_secrets", "k", "", "AWSCURRENT", "",
     "aws_secrets://k?stage=AWSCURRENT"},
    {"k?version=a%2Fb%20c#f", "", "k", "a/b c", "", "f", "k?version=a%2Fb%20c#f"},
    {"k?version=x=y#f", "", "k", "x=y", "", "f", "k?version=x%3Dy#f"},
    // '?' after '#' belongs to the field; '#' in a field is the field's own.
    {"k#a?b", "", "k", "", "", "a?b", "k#a?b"},
    {"k#a#b", "", "k", "", "", "a#b", "k#a#b"},
    {"k#0.name", "", "k", "", "", "0.name", "k#0.name"},
    // A non-ASCII field name.
    {"k#\xC3\xA9t\xC3\xA9", "", "k", "", "", "\xC3\xA9t\xC3\xA9", "k#\xC3\xA9t\xC3\xA9"},
};

struct Bad {
    std::string_view text;
    std::size_t offset;
    std::string_view message;
};

std::ostream& operator<<(std::ostream& os, const Bad& b) { return os << b.text; }

const Bad bad_references[] = {
    {"", 0, "empty reference"},
    {"aws_secret://prod/db", 0, "unknown backend 'aws_secret' (did you mean 'aws_secrets'?)"},
    {"AWS_SECRETS://prod/db", 0, "unknown backend 'AWS_SECRETS' (did you mean 'aws_secrets'?)"},
    {"azure_keyvalt://x", 0, "unknown backend 'azure_keyvalt' (did you mean 'azure_keyvault'?)"},
    {"https://v.vault.azure.net/secrets/x", 0, "unknown backend 'https'"},
    {"://x", 0, "missing backend name before '://'"},
    {"aws_secrets://", 14, "missing key after 'aws_secrets://'"},
    {"aws_secrets://#f", 14, "missing key after 'aws_secrets://'"},
    {"?version=1", 0, "missing key"},
    {"aws_secrets:prod/db", 11, "missing '//' after 'aws_secrets:' (write aws_secrets://KEY)"},
    {"doppler:X", 7, "missing '//' after 'doppler:' (write doppler://KEY)"},
    {"=x", 0, "unexpected '=' at the start of the key"},
    {"a,b", 1, "invalid character ',' in key"},
    {"env://a\"b", 7, "invalid character '\"' in key"},
    {"a b", 1, "invalid character ' ' in reference"},
    {"a\nb", 1, "invalid character '\\x0a' in reference"},
    {"a\tb", 1, "invalid character '\\x09' in reference"},
    {"\xC3\xA9t\xC3\xA9", 0, "invalid character U+00E9 in key"},
    {"a\xFF", 1, "invalid UTF-8 in reference"},
    {"k?", 2, "missing option after '?'"},
    {"k?version=1&", 12, "missing option after '&'"},
    {"k?version=1&&stage=2", 12, "missing option after '&'"},
    {"k?=1", 2, "missing option name before '='"},
    {"k?verison=1", 2, "unknown option 'verison' (did you mean 'version'?)"},
    {"k?region=x", 2, "unknown option 'region'"},
    {"k?version", 9, "option 'version' needs a value (version=ID)"},
    {"k?stage", 7, "option 'stage' needs a value (stage=LABEL)"},
    {"k?version=", 10, "option 'version' has an empty value"},
    {"k?stage=A&stage=B", 10, "option 'stage' is given twice"},
    {"azure_keyvault://k?stage=X", 19, "option 'stage' is not supported by backend 'azure_keyvault'"},
    {"env://k?version=1", 8, "option 'version' is not supported by backend 'env'"},
    {"doppler://k?stage=X", 12, "option 'stage' is not supported by backend 'doppler'"},
    {"k?version=%zz", 10, "bad percent-encoding in the value of option 'version'"},
    {"k?version=ab%4", 12, "bad percent-encoding in the value of option 'version'"},
    {"k?version=%00", 10,
     "the value of option 'version' decodes to a control character or invalid UTF-8"},
    {"k?stage=%FF", 8, "the value of option 'stage' decodes to a control character or invalid UTF-8"},
    {"k#", 1, "missing field name after '#'"},
    {"k#a..b", 4, "empty segment in field 'a..b'"},
    {"k#.a", 2, "empty segment in field '.a'"},
    {"k#a.", 4, "empty segment in field 'a.'"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(reference)

BOOST_DATA_TEST_CASE(parses_the_reference_grammar, data::make(good_references), c)
{
    auto r = parse_reference(c.text);
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->backend == c.backend);
    BOOST_TEST(r->key == c.key);
    BOOST_TEST(r->option("version") == c.version);
    BOOST_TEST(r->option("stage") == c.stage);
    BOOST_TEST(r->field == c.field);
    BOOST_TEST(r->to_string() == c.canonical);
    // The canonical form reads back as the same reference.
    auto again = parse_reference(r->to_string());
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST((*again == *r));
}

BOOST_DATA_TEST_CASE(reports_bad_references_with_offsets, data::make(bad_references), c)
{
    std::size_t offset = 999;
    auto r = parse_reference(c.text, &offset);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == c.message);
    BOOST_TEST(offset == c.offset);
    BOOST_TEST((r.error().code == secrun::Errc::manifest));
}

BOOST_AUTO_TEST_CASE(shows_the_configured_backend_when_the_reference_names_none)
{
    auto r = parse_reference("prod/db?stage=AWSPREVIOUS#password");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->to_string("aws_secrets") == "aws_secrets://prod/db?stage=AWSPREVIOUS#password");
    BOOST_TEST(r->to_string() == "prod/db?stage=AWSPREVIOUS#password");
    auto named = parse_reference("doppler://X");
    BOOST_TEST_REQUIRE(named.has_value());
    BOOST_TEST(named->to_string("aws_secrets") == "doppler://X");
}

BOOST_AUTO_TEST_CASE(keeps_options_in_canonical_order_so_equal_references_compare_equal)
{
    auto a = parse_reference("aws_secrets://k?stage=S&version=V");
    auto b = parse_reference("aws_secrets://k?version=V&stage=S");
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST((*a == *b));
    BOOST_TEST(a->options.size() == 2u);
    BOOST_TEST(a->options[0].first == "version");
    BOOST_TEST(a->options[1].first == "stage");
    BOOST_TEST(a->option("region") == "");
}

BOOST_AUTO_TEST_CASE(leaves_error_offset_alone_when_not_asked)
{
    BOOST_TEST(parse_reference("aws_secret://x").has_error()); // no pointer: must not crash
}

BOOST_AUTO_TEST_SUITE_END()
