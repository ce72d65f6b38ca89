#include "cache/cache_key.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

using namespace secrun;
using namespace secrun::cache;

namespace {

EnvMap env_of(EnvMap::Map vars) { return EnvMap(std::move(vars)); }

std::string hex_of(const CacheKey& key)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : key.bytes()) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

CacheKey key_from_hex(std::string hex)
{
    auto r = cache_key(env_of({{"SECRUN_CACHE_KEY", std::move(hex)}}));
    BOOST_TEST_REQUIRE(r.has_value());
    return *r;
}

const std::string key_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string other_key_hex = "f00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string key_rules =
    "the cache key must be 32 random bytes written as 64 hex digits or 44 base64 characters "
    "(openssl rand -hex 32)";

} // namespace

BOOST_AUTO_TEST_SUITE(cache_keys)

BOOST_AUTO_TEST_CASE(key_from_hex_in_either_case)
{
    BOOST_TEST(hex_of(key_from_hex(key_hex)) == key_hex);
    std::string upper = key_hex;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    const CacheKey key = key_from_hex(upper);
    BOOST_TEST(hex_of(key) == key_hex);
    BOOST_TEST(key.origin() == "SECRUN_CACHE_KEY");
}

BOOST_AUTO_TEST_CASE(key_from_base64)
{
    auto r = cache_key(env_of({{"SECRUN_CACHE_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(hex_of(*r) == key_hex);
}

BOOST_AUTO_TEST_CASE(explicit_key_wins_over_a_credential)
{
    auto r = cache_key(env_of({{"SECRUN_CACHE_KEY", key_hex}, {"DOPPLER_TOKEN", "dp.st.prd.example-token"}}));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(hex_of(*r) == key_hex);
}

BOOST_AUTO_TEST_CASE(malformed_keys_are_refused_without_echoing_them)
{
    const std::pair<std::string, std::string> cases[] = {
        {"", "SECRUN_CACHE_KEY is set but empty: " + key_rules},
        {key_hex.substr(0, 62), "SECRUN_CACHE_KEY has 62 hex digits, not 64: " + key_rules},
        {key_hex + "00", "SECRUN_CACHE_KEY has 66 hex digits, not 64: " + key_rules},
        {"AAECAwQFBgcICQoLDA0ODw==", "SECRUN_CACHE_KEY decodes from base64 to 16 bytes, not 32: " + key_rules},
        {"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",  // padding missing
         "SECRUN_CACHE_KEY is neither hex nor base64: " + key_rules},
        {"correct horse battery staple, not a key", "SECRUN_CACHE_KEY is neither hex nor base64: " + key_rules},
        {key_hex + "\n",
         "SECRUN_CACHE_KEY is neither hex nor base64 (it has leading or trailing whitespace): " + key_rules},
        {" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
         "SECRUN_CACHE_KEY is neither hex nor base64 (it has leading or trailing whitespace): " + key_rules},
    };
    for (const auto& [value, want] : cases) {
        auto r = cache_key(env_of({{"SECRUN_CACHE_KEY", value}, {"DOPPLER_TOKEN", "dp.st.x"}}));
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == Errc::config));
        BOOST_TEST(r.error().message == want);
        if (value.size() >= 8)
            BOOST_TEST(r.error().message.find(value.substr(value.size() / 2 - 4, 8)) == std::string::npos, value);
    }
}

// Expected keys computed independently with Python's hmac module (RFC 5869
// HKDF-SHA256, empty salt, info "secrun last-known-good v1"). Changing them
// would orphan every cache written with a derived key.
BOOST_AUTO_TEST_CASE(derived_keys_are_stable_and_follow_the_documented_order)
{
    const std::string doppler = "44bc7ca98a46b618a3b14dd75f8ffa07df04b882bddba541a7ba99563b53db90";
    const std::string azure = "849e42cdee5b02fe51cf0c1b003f15f6a79630f093f04f00d945eec4123dc1db";
    const std::string aws = "b967b489c57027102b54f55f459b166c9855704ac85f70d47b27a6fe7cd10e21";
    const EnvMap::Map all = {{"DOPPLER_TOKEN", "dp.st.prd.example-token"},
                             {"AZURE_CLIENT_SECRET", "azure-client-secret-1"},
                             {"AWS_SECRET_ACCESS_KEY", "aws/secret/key+1"}};

    EnvMap env(all);
    auto r = cache_key(env);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(hex_of(*r) == doppler);
    BOOST_TEST(r->origin() == "DOPPLER_TOKEN");

    env.set("DOPPLER_TOKEN", ""); // empty counts as unset
    r = cache_key(env);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(hex_of(*r) == azure);
    BOOST_TEST(r->origin() == "AZURE_CLIENT_SECRET");

    env.erase("AZURE_CLIENT_SECRET");
    r = cache_key(env);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(hex_of(*r) == aws);
    BOOST_TEST(r->origin() == "AWS_SECRET_ACCESS_KEY");

    BOOST_TEST(hex_of(*cache_key(env)) == aws); // stable
}

BOOST_AUTO_TEST_CASE(temporary_aws_keys_and_no_credential_need_an_explicit_key)
{
    const std::string want =
        "--cache needs SECRUN_CACHE_KEY (32 random bytes as 64 hex digits or base64, e.g. openssl rand -hex 32): "
        "no static credential to derive a key from (DOPPLER_TOKEN, AZURE_CLIENT_SECRET, or "
        "AWS_SECRET_ACCESS_KEY without AWS_SESSION_TOKEN)";
    for (const EnvMap::Map& vars :
         {EnvMap::Map{}, EnvMap::Map{{"AWS_SECRET_ACCESS_KEY", "aws/secret/key+1"}, {"AWS_SESSION_TOKEN", "tok"}},
          EnvMap::Map{{"DOPPLER_TOKEN", ""}, {"AWS_ACCESS_KEY_ID", "AKIA..."}}}) {
        auto r = cache_key(EnvMap(vars));
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == Errc::config));
        BOOST_TEST(r.error().message == want);
    }
}

BOOST_AUTO_TEST_CASE(moving_a_key_wipes_the_source)
{
    CacheKey a = key_from_hex(key_hex);
    CacheKey b(std::move(a));
    BOOST_TEST(hex_of(b) == key_hex);
    BOOST_TEST(hex_of(a) == std::string(64, '0')); // NOLINT(bugprone-use-after-move): checking the wipe
    CacheKey c = key_from_hex(other_key_hex);
    c = std::move(b);
    BOOST_TEST(hex_of(c) == key_hex);
    BOOST_TEST(hex_of(b) == std::string(64, '0')); // NOLINT(bugprone-use-after-move)
}

BOOST_AUTO_TEST_SUITE_END()
