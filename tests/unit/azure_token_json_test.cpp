// The pure readers of Azure answers: token endpoint JSON, `az` output, Key
// Vault bundles and error bodies. Epoch numbers a server sends must never
// overflow system_clock (found by the azure_token fuzzer's seeds).
#include "auth/azure_sources.hpp"
#include "auth/iso8601.hpp"
#include "backends/azure_keyvault.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

using namespace secrun;
namespace azure = secrun::auth::azure;
namespace kv = secrun::backends::azure_keyvault;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace
{
const system_clock::time_point now{seconds(1714979289)}; // 2024-05-06T07:08:09Z
} // namespace

BOOST_AUTO_TEST_SUITE(azure_token_json)

BOOST_AUTO_TEST_CASE(epoch_seconds_outside_system_clock_are_refused)
{
    BOOST_TEST(auth::from_epoch_seconds(1714979289).has_value());
    BOOST_TEST(auth::from_epoch_seconds(-1714979289).has_value());
    BOOST_TEST(!auth::from_epoch_seconds(9'300'000'000LL).has_value());  // after 2262
    BOOST_TEST(!auth::from_epoch_seconds(-9'300'000'000LL).has_value()); // before 1677
    BOOST_TEST(!auth::seconds_after(now, 9'223'372'036'854'775'807LL).has_value());
    BOOST_TEST(!auth::seconds_after(now, 8'000'000'000LL).has_value());
    BOOST_TEST((*auth::seconds_after(now, 3600) == now + seconds(3600)));
}

BOOST_AUTO_TEST_CASE(token_responses_with_expires_on_or_expires_in)
{
    const auto on = azure::parse_token_response(
        R"({"access_token":"eyJ0.eyJ1.c2ln","expires_on":"1714982889"})", now, "IMDS");
    BOOST_REQUIRE(on);
    BOOST_TEST(on->access_token.reveal() == "eyJ0.eyJ1.c2ln");
    BOOST_TEST((on->expires_on == system_clock::time_point(seconds(1714982889))));

    const auto in =
        azure::parse_token_response(R"({"access_token":"t","expires_in":3599})", now, "Entra ID");
    BOOST_REQUIRE(in);
    BOOST_TEST((in->expires_on == now + seconds(3599)));
}

BOOST_AUTO_TEST_CASE(expiries_system_clock_cannot_hold_are_errors_not_overflows)
{
    for (const char* body : {R"({"access_token":"t","expires_on":99999999999999999})",
                             R"({"access_token":"t","expires_on":"9223372036854775807"})",
                             R"({"access_token":"t","expires_in":9223372036854775807})"}) {
        BOOST_TEST_CONTEXT(body)
        {
            const auto token = azure::parse_token_response(body, now, "IMDS");
            BOOST_REQUIRE(!token);
            BOOST_TEST(token.error().message ==
                       "IMDS answered without a usable expires_in or expires_on");
        }
    }
    for (const char* out : {R"({"accessToken":"t","expires_on":99999999999999999})",
                            R"({"accessToken":"t","expiresOn":"9999-12-31 23:59:59.000000"})"}) {
        BOOST_TEST_CONTEXT(out)
        {
            const auto token = azure::parse_cli_output(out);
            BOOST_REQUIRE(!token);
            BOOST_TEST(
                token.error().message.rfind(
                    "Azure CLI: unexpected output from 'az account get-access-token' (", 0) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(az_output_in_both_shapes)
{
    const auto epoch = azure::parse_cli_output(
        R"({"accessToken":"tok","expiresOn":"2024-05-06 08:08:09.123456","expires_on":1714982889})");
    BOOST_REQUIRE(epoch);
    BOOST_TEST((epoch->expires_on == system_clock::time_point(seconds(1714982889))));
    const auto zoned =
        azure::parse_cli_output(R"({"accessToken":"tok","expiresOn":"2024-05-06T09:08:09+02:00"})");
    BOOST_REQUIRE(zoned);
    BOOST_TEST((zoned->expires_on == system_clock::time_point(seconds(1714979289))));
}

BOOST_AUTO_TEST_CASE(key_vault_bundles_and_errors)
{
    const auto bundle = kv::parse_secret_bundle(
        R"({"value":"v","id":"https://v.vault.azure.net/secrets/CH-HOST/4387e9f3d6e14c459867679a90fd0f79"})");
    BOOST_REQUIRE(bundle);
    BOOST_TEST(bundle->value.reveal() == "v");
    BOOST_TEST(bundle->version == "4387e9f3d6e14c459867679a90fd0f79");
    const std::string no_value = "the answer has no value (not a SecretBundle)";
    BOOST_TEST(kv::parse_secret_bundle(R"({"id":"x"})").error().message == no_value);
    BOOST_TEST(kv::parse_secret_bundle(R"({"value":1})").error().message == no_value);
    BOOST_TEST(kv::parse_secret_bundle("not json").error().message == "the answer is not JSON");

    const kv::KeyVaultError error = kv::parse_error(
        R"({"error":{"code":"Forbidden","message":"line one\nline two","innererror":{"code":"SecretDisabled"}}})");
    BOOST_TEST(error.code == "Forbidden");
    BOOST_TEST(error.inner == "SecretDisabled");
    BOOST_TEST(error.message == "line one");
    const kv::KeyVaultError none = kv::parse_error("<html>");
    BOOST_TEST((none.code.empty() && none.inner.empty() && none.message.empty()));
}

BOOST_AUTO_TEST_SUITE_END()
