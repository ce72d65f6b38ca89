#include "resolve/json_field.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace data = boost::unit_test::data;
using secrun::Errc;
using secrun::resolve::select_json_field;

namespace {

struct Selection {
    std::string_view json;
    std::string_view field;
    std::string_view expected;
};

std::ostream& operator<<(std::ostream& os, const Selection& s) { return os << s.field; }

const std::string_view db = R"({
  "username": "app",
  "password": "p@ss \"quoted\" \\ \u00e9\n\ud83d\udd11",
  "port": 5432,
  "ratio": 0.50,
  "big": 123456789012345678901234567890,
  "exp": 1E+3,
  "neg": -7,
  "tls": true,
  "ssl": false,
  "none": null,
  "empty": "",
  "connection": {"host": "db.internal", "replicas": [{"host": "r0"}, {"host": "r1", "port": 6543}]},
  "tags": ["a", "b"],
  "nested": {"k\"ey": "v\u0001", "list": [1, 2.5, {"x": null}], "obj": {}, "arr": []}
})";

const Selection selections[] = {
    {db, "username", "app"},
    // Strings come out unescaped, byte for byte.
    {db, "password", "p@ss \"quoted\" \\ \xC3\xA9\n\xF0\x9F\x94\x91"},
    {db, "empty", ""},
    // Numbers, booleans and null as their JSON text, exactly as written.
    {db, "port", "5432"},
    {db, "ratio", "0.50"},
    {db, "big", "123456789012345678901234567890"},
    {db, "exp", "1E+3"},
    {db, "neg", "-7"},
    {db, "tls", "true"},
    {db, "ssl", "false"},
    {db, "none", "null"},
    // Nested objects and array elements.
    {db, "connection.host", "db.internal"},
    {db, "connection.replicas.1.port", "6543"},
    {db, "connection.replicas.0.host", "r0"},
    {db, "tags.1", "b"},
    // Objects and arrays as compact JSON.
    {db, "tags", R"(["a","b"])"},
    {db, "connection.replicas", R"([{"host":"r0"},{"host":"r1","port":6543}])"},
    {db, "nested", R"({"k\"ey":"v\u0001","list":[1,2.5,{"x":null}],"obj":{},"arr":[]})"},
    {db, "nested.list.2", R"({"x":null})"},
    {db, "nested.k\"ey", "v\x01"},
    // A top-level array; a numeric key of an object is a key.
    {R"([10, [20, 30]])", "1.0", "20"},
    {R"({"0": "zero"})", "0", "zero"},
    // Duplicate keys: the last one wins.
    {R"({"a": 1, "a": 2})", "a", "2"},
    {R"({"a": {"b": 1}, "a": 3})", "a", "3"},
    {R"({"a": 3, "a": {"b": 1}})", "a.b", "1"},
};

struct Failure {
    std::string_view json;
    std::string_view field;
    Errc code;
    std::string_view message;
};

std::ostream& operator<<(std::ostream& os, const Failure& f) { return os << f.field; }

const Failure failures[] = {
    {db, "missing", Errc::not_found, "field 'missing' not found"},
    {db, "missing.x", Errc::not_found, "field 'missing.x' not found ('missing' is missing)"},
    {db, "connection.port", Errc::not_found,
     "field 'connection.port' not found ('port' is missing in 'connection')"},
    {db, "connection.replicas.2", Errc::not_found,
     "field 'connection.replicas.2' not found ('connection.replicas' has no element 2)"},
    {db, "connection.replicas.first", Errc::not_found,
     "field 'connection.replicas.first' not found ('connection.replicas' is an array and 'first' is "
     "not an index)"},
    {db, "tags.01", Errc::not_found,
     "field 'tags.01' not found ('tags' is an array and '01' is not an index)"},
    {db, "port.x", Errc::not_found, "field 'port.x' not found ('port' is a number, not an object)"},
    {db, "username.x", Errc::not_found,
     "field 'username.x' not found ('username' is a string, not an object)"},
    {db, "tls.x", Errc::not_found, "field 'tls.x' not found ('tls' is a boolean, not an object)"},
    {db, "none.x", Errc::not_found, "field 'none.x' not found ('none' is null, not an object)"},
    {R"("just a string")", "a", Errc::not_found,
     "field 'a' not found (the value is a string, not an object)"},
    {R"(42)", "a", Errc::not_found, "field 'a' not found (the value is a number, not an object)"},
    {R"([1])", "1", Errc::not_found, "field '1' not found (the value has no element 1)"},
    {R"([1])", "x", Errc::not_found,
     "field 'x' not found (the value is an array and 'x' is not an index)"},
    {R"({"a": {"b": 1}, "a": 3})", "a.b", Errc::not_found,
     "field 'a.b' not found ('a' is a number, not an object)"},
    // Not JSON at all, or not only JSON.
    {"hunter2", "password", Errc::value, "value is not JSON, cannot select field 'password'"},
    {"", "password", Errc::value, "value is not JSON, cannot select field 'password'"},
    {R"({"password": "x"} trailing)", "password", Errc::value,
     "value is not JSON, cannot select field 'password'"},
    {R"({"password": "x",})", "password", Errc::value,
     "value is not JSON, cannot select field 'password'"},
    {R"({"password": "x" /* c */})", "password", Errc::value,
     "value is not JSON, cannot select field 'password'"},
    {"{\"password\": \"\xFF\"}", "password", Errc::value,
     "value is not JSON, cannot select field 'password'"},
    {R"({"a": 1})", "a..b", Errc::value, "invalid field 'a..b'"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(json_field)

BOOST_DATA_TEST_CASE(selects_fields, data::make(selections), s)
{
    auto r = select_json_field(s.json, s.field);
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->reveal() == s.expected);
}

BOOST_DATA_TEST_CASE(names_the_field_never_the_value, data::make(failures), f)
{
    auto r = select_json_field(f.json, f.field);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == f.message);
    BOOST_TEST((r.error().code == f.code));
    BOOST_TEST(r.error().message.find("hunter2") == std::string::npos);
    BOOST_TEST(r.error().message.find("p@ss") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(bounds_the_nesting_depth)
{
    std::string ok(64, '[');
    ok.push_back('1');
    ok.append(64, ']');
    std::string path(1, '0');
    for (int i = 1; i < 63; ++i) {
        path.push_back('.');
        path.push_back('0');
    }
    auto r = select_json_field(ok, path);
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->reveal() == "[1]");

    std::string deep(65, '[');
    deep.append(65, ']');
    auto too_deep = select_json_field(deep, "0");
    BOOST_TEST_REQUIRE(too_deep.has_error());
    BOOST_TEST(too_deep.error().message == "value is nested deeper than 64 levels, cannot select field '0'");

    const std::string hostile(1'000'000, '[');
    BOOST_TEST(select_json_field(hostile, "a").has_error());
}

// A random JSON document whose keys are "a" and "0", at most `depth` deep.
static std::string random_json(std::mt19937& rng, int depth)
{
    const int kind = std::uniform_int_distribution<int>(0, depth > 0 ? 5 : 3)(rng);
    switch (kind) {
    case 0: return "\"s\\u00e9\\n\"";
    case 1: return "-12.50e1";
    case 2: return "true";
    case 3: return "null";
    case 4: return "{\"a\": " + random_json(rng, depth - 1) + ", \"0\": " + random_json(rng, depth - 1) + "}";
    default: return "[" + random_json(rng, depth - 1) + ", " + random_json(rng, depth - 1) + "]";
    }
}

BOOST_AUTO_TEST_CASE(never_crashes_on_any_input)
{
    // Valid documents, some of them damaged by one inserted or deleted byte.
    std::mt19937 rng(777);
    const std::string_view damage = "{}[]\":,\\\xFF";
    const std::string_view fields[] = {"a", "0", "a.0", "0.a", "a.a.a"};
    std::size_t selected = 0;
    std::size_t failed = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string text = random_json(rng, 4);
        const auto at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
        switch (round % 3) {
        case 1: text.insert(at, 1, damage[at % damage.size()]); break;
        case 2: text.erase(at, 1); break;
        default: break;
        }
        for (const std::string_view field : fields) {
            auto r = select_json_field(text, field);
            if (r) {
                ++selected;
            } else {
                ++failed;
                BOOST_TEST_REQUIRE(r.error().message.find(field) != std::string::npos);
            }
        }
    }
    BOOST_TEST(selected > 500u);
    BOOST_TEST(failed > 5000u);
}

BOOST_AUTO_TEST_SUITE_END()
