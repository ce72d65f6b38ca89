#include "auth/aws_credentials.hpp"

#include "auth/aws_config.hpp"
#include "auth/aws_credential_process.hpp"
#include "auth/aws_metadata.hpp"
#include "auth/aws_sts.hpp"
#include "fakes/fake_https_client.hpp"
#include "fakes/run_awaitable.hpp"
#include "unit/aws_test_support.hpp"
#include "util/strings.hpp"

#include <boost/test/unit_test.hpp>

using namespace secrun;
using namespace secrun::auth;
namespace fs = std::filesystem;
using secrun::testing::TempDir;

namespace {

constexpr auto executable = fs::perms::owner_all;

std::string header(const https::Request& r, std::string_view name)
{
    for (const auto& [key, value] : r.headers)
        if (util::iequals(key, name))
            return value;
    return "(absent)";
}

struct Chain {
    TempDir home;
    EnvMap env;
    testing::FakeHttpsClient http;

    Chain() { env.set("HOME", home.str()); }

    Result<AwsCredentials> resolve(std::string region = "eu-west-1")
    {
        auto files = AwsSharedConfig::load(env);
        if (!files)
            return files.error();
        auto imds = ImdsClient::from_env(env, http);
        if (!imds)
            return imds.error();
        AwsCredentialChain chain(env, http, *files, *imds, testing::fixed_now);
        return testing::run(chain.resolve(std::move(region)));
    }

    Result<std::string> region()
    {
        auto files = AwsSharedConfig::load(env);
        if (!files)
            return files.error();
        auto imds = ImdsClient::from_env(env, http);
        if (!imds)
            return imds.error();
        AwsCredentialChain chain(env, http, *files, *imds, testing::fixed_now);
        return testing::run(chain.resolve_region());
    }

    // What the chain says when nothing is configured, up to the IMDS part.
    std::string nothing_configured() const
    {
        return util::str_cat("no AWS credentials: environment: AWS_ACCESS_KEY_ID not set; web identity: "
                             "AWS_WEB_IDENTITY_TOKEN_FILE not set; profile 'default': no such profile in ",
                             home.str(), "/.aws/config, ", home.str(), "/.aws/credentials; ECS: not configured; ");
    }
};

const std::string sts_ok =
    R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:ns:app</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>ASIAWEB</AccessKeyId>
      <SecretAccessKey>web/secret&amp;key</SecretAccessKey>
      <SessionToken>web-session-token</SessionToken>
      <Expiration>2015-08-30T13:36:00Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)";

const std::string assume_role_ok =
    R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/r/s</Arn></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAROLE</AccessKeyId>
      <SecretAccessKey>role-secret</SecretAccessKey>
      <SessionToken>role-token</SessionToken>
      <Expiration>2015-08-30T13:36:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>)";

} // namespace

BOOST_AUTO_TEST_SUITE(aws_credentials)

// --- the combined message and the order --------------------------------------

BOOST_AUTO_TEST_CASE(names_every_provider_when_none_applies)
{
    Chain c;
    c.env.set("HOME", "/nonexistent/u");
    c.http.on("PUT", std::string(testing::imds), [](const https::Request&) -> Result<https::Response> {
        return Error(Errc::network, "connect to http://169.254.169.254 failed: Network is unreachable");
    });
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               "no AWS credentials: environment: AWS_ACCESS_KEY_ID not set; web identity: "
               "AWS_WEB_IDENTITY_TOKEN_FILE not set; profile 'default': no such profile in "
               "/nonexistent/u/.aws/config, /nonexistent/u/.aws/credentials; ECS: not configured; "
               "EC2 IMDS: connect to http://169.254.169.254 failed: Network is unreachable");
    BOOST_TEST((r.error().code == Errc::auth));
    BOOST_TEST(c.http.requests.size() == 1U);
    BOOST_TEST(c.http.requests[0].timeout.count() == 1000);
    BOOST_TEST(c.http.requests[0].max_attempts == 1);
    BOOST_TEST(c.http.requests[0].allow_http);
}

BOOST_AUTO_TEST_CASE(imds_can_be_switched_off)
{
    Chain c;
    c.env.set("AWS_EC2_METADATA_DISABLED", "TRUE");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               c.nothing_configured() + "EC2 IMDS: disabled by AWS_EC2_METADATA_DISABLED");
    BOOST_TEST(c.http.requests.empty());
}

BOOST_AUTO_TEST_CASE(environment_keys_come_first)
{
    Chain c;
    c.env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    c.env.set("AWS_SECRET_ACCESS_KEY", "env-secret");
    c.env.set("AWS_SESSION_TOKEN", "env-token");
    c.env.set("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent");
    c.home.write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
    testing::add_imds_routes(c.http);
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->access_key_id == "AKIDENV");
    BOOST_TEST(r->secret_access_key.reveal() == "env-secret");
    BOOST_TEST(r->session_token.reveal() == "env-token");
    BOOST_TEST(r->provider == "environment");
    BOOST_TEST(c.http.requests.empty());
}

BOOST_AUTO_TEST_CASE(half_set_environment_keys_stop_the_chain)
{
    Chain c;
    c.env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    c.home.write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               "AWS credentials: environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");

    Chain d;
    d.env.set("AWS_SECRET_ACCESS_KEY", "x");
    BOOST_TEST(d.resolve().error().message ==
               "AWS credentials: environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
}

// --- profiles ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reads_static_keys_from_the_credentials_file)
{
    Chain c;
    c.home.write(".aws/credentials", "# comment\n[other]\naws_access_key_id = AKIDOTHER\n"
                                     "aws_secret_access_key = o\n\n[default]\r\n"
                                     "AWS_Access_Key_Id=AKIDFILE\r\naws_secret_access_key = file/secret \r\n"
                                     "aws_session_token = file-token\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->access_key_id == "AKIDFILE");
    BOOST_TEST(r->secret_access_key.reveal() == "file/secret");
    BOOST_TEST(r->session_token.reveal() == "file-token");
    BOOST_TEST(r->provider == "profile 'default'");
}

BOOST_AUTO_TEST_CASE(config_file_profiles_are_written_profile_name)
{
    Chain c;
    c.env.set("AWS_PROFILE", "dev");
    c.home.write(".aws/config", "[dev]\naws_access_key_id = AKIDBARE\naws_secret_access_key = x\n"
                                "[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = y\n"
                                "region = eu-central-1\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->access_key_id == "AKIDDEV");
    BOOST_TEST(r->provider == "profile 'dev'");
    BOOST_TEST(c.region().value() == "eu-central-1");
}

BOOST_AUTO_TEST_CASE(a_bare_section_in_the_config_file_is_not_a_profile)
{
    Chain c;
    c.env.set("AWS_PROFILE", "dev");
    c.home.write(".aws/config", "[dev]\naws_access_key_id = AKIDBARE\naws_secret_access_key = x\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == util::str_cat("AWS credentials: profile 'dev': no such profile in ",
                                                  c.home.str(), "/.aws/config, ", c.home.str(),
                                                  "/.aws/credentials"));
    BOOST_TEST((r.error().code == Errc::config));
}

BOOST_AUTO_TEST_CASE(credentials_file_keys_win_over_the_config_file)
{
    Chain c;
    c.env.set("AWS_CONFIG_FILE", c.home.write("elsewhere/cfg", "[default]\naws_access_key_id = AKIDCFG\n"
                                                                "aws_secret_access_key = cfg\nregion = ap-south-1\n"));
    c.env.set("AWS_SHARED_CREDENTIALS_FILE",
              c.home.write("elsewhere/creds", "[default]\naws_access_key_id = AKIDCRED\n"
                                              "aws_secret_access_key = cred\n"));
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->access_key_id == "AKIDCRED");
    BOOST_TEST(r->secret_access_key.reveal() == "cred");
    BOOST_TEST(c.region().value() == "ap-south-1");
}

BOOST_AUTO_TEST_CASE(a_profile_without_credentials_is_skipped)
{
    Chain c;
    c.env.set("AWS_EC2_METADATA_DISABLED", "true");
    c.home.write(".aws/config", "[default]\nregion = us-west-2\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               "no AWS credentials: environment: AWS_ACCESS_KEY_ID not set; web identity: "
               "AWS_WEB_IDENTITY_TOKEN_FILE not set; profile 'default': no credentials in it "
               "(aws_access_key_id, credential_process or role_arn); ECS: not configured; "
               "EC2 IMDS: disabled by AWS_EC2_METADATA_DISABLED");
}

BOOST_AUTO_TEST_CASE(a_half_configured_profile_stops_the_chain)
{
    Chain c;
    c.home.write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\n");
    testing::add_imds_routes(c.http);
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               "AWS credentials: profile 'default': aws_access_key_id without aws_secret_access_key");
    BOOST_TEST(c.http.requests.empty());
}

BOOST_AUTO_TEST_CASE(a_malformed_file_is_reported_with_its_line)
{
    Chain c;
    const std::string path = c.home.write(".aws/config", "[default]\nregion = x\nthis is not a setting\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == path + ":3: expected 'key = value'");

    BOOST_TEST(parse_ini("key = v\n", "f").error().message == "f:1: a setting outside any [section]");
    BOOST_TEST(parse_ini("[open\n", "f").error().message == "f:1: expected ']' to end the section name");
    BOOST_TEST(parse_ini("[a] junk\n", "f").error().message == "f:1: unexpected text after the section name");
    const auto nested = parse_ini("[profile x]\ns3 =\n  max_concurrent_requests = 20\nregion=r\n", "f");
    BOOST_TEST(nested->at("profile x").at("s3") == "\nmax_concurrent_requests = 20");
    BOOST_TEST(nested->at("profile x").at("region") == "r");
}

BOOST_AUTO_TEST_CASE(an_unreadable_file_is_an_error)
{
    Chain c;
    const std::string path = c.home.write(".aws/credentials", "[default]\n", fs::perms::none);
    if (::access(path.c_str(), R_OK) == 0)
        return; // running as root: permissions do not apply
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "cannot read " + path + ": Permission denied");
}

BOOST_AUTO_TEST_CASE(runs_credential_process_and_reads_version_1_json)
{
    Chain c;
    const std::string script = c.home.write(
        "bin/creds.sh",
        "#!/bin/sh\nprintf '{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"proc-secret\", "
        "\"SessionToken\": \"proc-token\", \"Expiration\": \"2099-01-01T00:00:00Z\"}' \"$1|$2\"\n",
        executable);
    c.home.write(".aws/config", "[default]\ncredential_process = \"" + script + "\" 'arg one' two\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "arg one|two");
    BOOST_TEST(r->secret_access_key.reveal() == "proc-secret");
    BOOST_TEST(r->session_token.reveal() == "proc-token");
    BOOST_TEST(r->provider == "profile 'default'");
}

BOOST_AUTO_TEST_CASE(credential_process_failures_show_the_status_not_the_output)
{
    Chain c;
    const std::string fails = c.home.write(
        "bin/fails.sh", "#!/bin/sh\necho 'AKIA-LEAKED-IN-OUTPUT'\necho 'oops secret' >&2\nexit 3\n", executable);
    c.home.write(".aws/config", "[default]\ncredential_process = " + fails + "\n");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "AWS credentials: profile 'default': credential_process exited with status 3");

    const std::string v2 = c.home.write(
        "bin/v2.sh", "#!/bin/sh\necho '{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}'\n",
        executable);
    c.home.write(".aws/config", "[default]\ncredential_process = " + v2 + "\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'default': credential_process output: Version is not 1");

    const std::string text = c.home.write("bin/text.sh", "#!/bin/sh\necho 'not json'\n", executable);
    c.home.write(".aws/config", "[default]\ncredential_process = " + text + "\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'default': credential_process output: not a JSON object");

    const std::string expired = c.home.write(
        "bin/expired.sh",
        "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
        "\"Expiration\":\"2015-08-30T12:00:00Z\"}'\n",
        executable);
    c.home.write(".aws/config", "[default]\ncredential_process = " + expired + "\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'default': credential_process output: the credentials have "
               "expired (Expiration is past)");

    c.home.write(".aws/config", "[default]\ncredential_process = 'unclosed\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'default': credential_process is not a usable command line "
               "(empty, or a quote is not closed)");
}

BOOST_AUTO_TEST_CASE(splits_command_lines_like_a_shell)
{
    using V = std::vector<std::string>;
    BOOST_TEST(split_command_line("a  b\tc").value() == (V{"a", "b", "c"}));
    BOOST_TEST(split_command_line(R"('x y' "a \"q\" \\ $" b\ c d'e'f)").value() ==
               (V{"x y", R"(a "q" \ $)", "b c", "def"}));
    BOOST_TEST(split_command_line("''").value() == (V{""}));
    BOOST_TEST(!split_command_line("   ").has_value());
    BOOST_TEST(!split_command_line("\"open").has_value());
}

BOOST_AUTO_TEST_CASE(sso_profiles_are_refused_with_a_way_out)
{
    Chain c;
    c.home.write(".aws/config", "[default]\nsso_session = corp\nsso_account_id = 1\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'default': IAM Identity Center (sso_*) profiles are not "
               "supported; use a profile with credential_process = aws configure export-credentials "
               "--profile default --format process");
}

// --- role_arn chaining --------------------------------------------------------

BOOST_AUTO_TEST_CASE(assumes_a_role_with_source_profile_keys_signed)
{
    Chain c;
    c.env.set("AWS_PROFILE", "app");
    c.home.write(".aws/config", "[profile app]\nrole_arn = arn:aws:iam::111122223333:role/app\n"
                                "source_profile = base\nexternal_id = ext-1\nrole_session_name = s1\n");
    c.home.write(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
    c.http.on("POST", "https://sts.eu-west-1.amazonaws.com:443/", 200, assume_role_ok);
    auto r = c.resolve("eu-west-1");
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "ASIAROLE");
    BOOST_TEST(r->secret_access_key.reveal() == "role-secret");
    BOOST_TEST(r->session_token.reveal() == "role-token");
    BOOST_TEST(r->provider == "profile 'app'");

    BOOST_TEST_REQUIRE(c.http.requests.size() == 1U);
    const https::Request& sent = c.http.requests[0];
    BOOST_TEST(sent.body == "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fapp"
                            "&RoleSessionName=s1&ExternalId=ext-1");
    // The signature is what the signer gives for the same request at the same time.
    https::Request again = sent;
    std::erase_if(again.headers, [](const auto& h) {
        return util::iequals(h.first, "Authorization") || util::iequals(h.first, "X-Amz-Date");
    });
    AwsCredentials base;
    base.access_key_id = "AKIDBASE";
    base.secret_access_key = SecretString(std::string_view("base-secret"));
    auto expected = sigv4::sign(again, base, {"eu-west-1", "sts"}, testing::fixed_time);
    BOOST_TEST(header(sent, "Authorization") == expected->authorization);
    BOOST_TEST(header(sent, "Authorization").find("Credential=AKIDBASE/20150830/eu-west-1/sts/aws4_request") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(reports_source_profile_loops_and_missing_sources)
{
    Chain c;
    c.env.set("AWS_PROFILE", "a");
    c.home.write(".aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                                "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'a': source_profile 'b': source_profile loop: a -> b -> a");

    c.home.write(".aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'a': role_arn needs source_profile, credential_source or "
               "web_identity_token_file");

    c.home.write(".aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = a\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'a': source_profile 'a' names the profile itself, which has no "
               "aws_access_key_id");

    c.home.write(".aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nmfa_serial = arn:x\n"
                                "source_profile = a\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'a': mfa_serial needs an interactive MFA code, which secrun "
               "cannot ask for");

    c.home.write(".aws/config", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\ncredential_source = Environment\n");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: profile 'a': credential_source Environment: AWS_ACCESS_KEY_ID not set");
}

BOOST_AUTO_TEST_CASE(role_from_credential_source_imds)
{
    Chain c;
    c.home.write(".aws/config", "[default]\nrole_arn = arn:aws:iam::1:role/a\ncredential_source = Ec2InstanceMetadata\n");
    testing::add_imds_routes(c.http);
    c.http.on("POST", "https://sts.amazonaws.com:443/", 200, assume_role_ok);
    auto r = c.resolve("");
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "ASIAROLE");
    const https::Request& sts = c.http.requests.back();
    BOOST_TEST(header(sts, "Authorization").find("Credential=ASIAIMDS/20150830/us-east-1/sts/aws4_request") !=
               std::string::npos);
    BOOST_TEST(header(sts, "X-Amz-Security-Token") == "imds-token");
}

// --- web identity ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(web_identity_calls_sts_unsigned_and_reads_its_xml)
{
    Chain c;
    c.env.set("AWS_WEB_IDENTITY_TOKEN_FILE", c.home.write("token", "eyJ.token.sig\n"));
    c.env.set("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/web");
    c.env.set("AWS_ROLE_SESSION_NAME", "pod-1");
    c.http.on("POST", "https://sts.eu-west-1.amazonaws.com:443/", 200, sts_ok);
    auto r = c.resolve("eu-west-1");
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "ASIAWEB");
    BOOST_TEST(r->secret_access_key.reveal() == "web/secret&key");
    BOOST_TEST(r->session_token.reveal() == "web-session-token");
    BOOST_TEST((r->expiration == testing::fixed_time + std::chrono::hours(1)));
    BOOST_TEST(r->provider == "web identity");

    BOOST_TEST_REQUIRE(c.http.requests.size() == 1U);
    const https::Request& sent = c.http.requests[0];
    BOOST_TEST(sent.body == "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
                            "111122223333%3Arole%2Fweb&RoleSessionName=pod-1&WebIdentityToken=eyJ.token.sig");
    BOOST_TEST(header(sent, "Content-Type") == "application/x-www-form-urlencoded; charset=utf-8");
    BOOST_TEST(header(sent, "Authorization") == "(absent)");
    BOOST_TEST(!sent.allow_http);
}

BOOST_AUTO_TEST_CASE(a_profile_can_use_web_identity)
{
    Chain c;
    const std::string token = c.home.write("oidc/token", "profile-oidc-token");
    c.home.write(".aws/config", "[default]\nrole_arn = arn:aws:iam::1:role/ci\nweb_identity_token_file = " + token +
                                    "\nrole_session_name = ci-run\n");
    c.http.on("POST", "https://sts.eu-west-1.amazonaws.com:443/", 200, sts_ok);
    auto r = c.resolve("eu-west-1");
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "ASIAWEB");
    BOOST_TEST(r->provider == "profile 'default'");
    BOOST_TEST(c.http.requests[0].body ==
               "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fci"
               "&RoleSessionName=ci-run&WebIdentityToken=profile-oidc-token");
}

BOOST_AUTO_TEST_CASE(web_identity_failures_stop_the_chain)
{
    Chain c;
    testing::add_imds_routes(c.http);
    c.env.set("AWS_WEB_IDENTITY_TOKEN_FILE", c.home.str() + "/missing-token");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");

    c.env.set("AWS_ROLE_ARN", "arn:aws:iam::1:role/web");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: web identity: token file " + c.home.str() + "/missing-token does not exist");

    c.env.set("AWS_WEB_IDENTITY_TOKEN_FILE", c.home.write("token", "t"));
    c.http.on("POST", "https://sts.eu-west-1.amazonaws.com:443/", 403,
              R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">)"
              R"(<Error><Type>Sender</Type><Code>AccessDenied</Code>)"
              R"(<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>)"
              R"(<RequestId>r-2</RequestId></ErrorResponse>)");
    auto r = c.resolve("eu-west-1");
    BOOST_TEST(r.error().message ==
               "AWS credentials: web identity: STS AssumeRoleWithWebIdentity failed: AccessDenied (HTTP 403): "
               "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    BOOST_TEST((r.error().code == Errc::auth));
    BOOST_TEST(c.http.count("PUT", std::string(testing::imds)) == 0U);
}

BOOST_AUTO_TEST_CASE(web_identity_honours_the_sts_endpoint_override)
{
    Chain c;
    c.env.set("AWS_WEB_IDENTITY_TOKEN_FILE", c.home.write("token", "t"));
    c.env.set("AWS_ROLE_ARN", "arn:aws:iam::1:role/web");
    c.env.set("AWS_ENDPOINT_URL", "https://127.0.0.1:9000");
    c.env.set("AWS_ENDPOINT_URL_STS", "https://127.0.0.1:9443");
    c.http.on("POST", "https://127.0.0.1:9443/", 200, sts_ok);
    auto r = c.resolve("eu-west-1");
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(c.http.requests[0].body.find("RoleSessionName=secrun-1440938160&") != std::string::npos);

    c.env.erase("AWS_ENDPOINT_URL_STS");
    c.http.on("POST", "https://127.0.0.1:9000/", 200, sts_ok);
    BOOST_TEST(c.resolve("eu-west-1").has_value());
    BOOST_TEST(c.http.count("POST", "https://127.0.0.1:9000/") == 1U);
}

// --- container credentials -----------------------------------------------------

BOOST_AUTO_TEST_CASE(ecs_relative_uri_with_a_token_file)
{
    Chain c;
    c.env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
    c.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set");
    c.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", c.home.write("ecs-token", "file-token\n"));
    c.http.on("GET", "http://169.254.170.2:80/v2/credentials/abc", 200,
              R"({"RoleArn":"arn:aws:iam::1:role/task","AccessKeyId":"ASIAECS","SecretAccessKey":"ecs-secret",)"
              R"("Token":"ecs-token","Expiration":"2015-08-30T18:00:00Z"})");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "ASIAECS");
    BOOST_TEST(r->session_token.reveal() == "ecs-token");
    BOOST_TEST(r->provider == "ECS");
    BOOST_TEST_REQUIRE(c.http.requests.size() == 1U);
    BOOST_TEST(header(c.http.requests[0], "Authorization") == "file-token");
    BOOST_TEST(header(c.http.requests[0], "Accept") == "application/json");
    BOOST_TEST(c.http.requests[0].allow_http);
}

BOOST_AUTO_TEST_CASE(ecs_full_uri_hosts_are_checked)
{
    const auto endpoint = [](std::string uri) {
        EnvMap env;
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", std::move(uri));
        return container_endpoint(env);
    };
    for (const char* ok : {"http://127.0.0.1:8080/c", "http://localhost/c", "http://[::1]/c",
                           "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/c",
                           "https://creds.example.com/c"})
        BOOST_TEST(endpoint(ok).has_value(), ok);
    BOOST_TEST(endpoint("http://10.0.0.1/c").error().message ==
               "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed only to loopback, 169.254.170.2, "
               "169.254.170.23 or fd00:ec2::23, not '10.0.0.1' (use https)");
    BOOST_TEST(endpoint("http://creds.internal/c").has_error());

    Chain c;
    c.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials");
    c.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token");
    c.http.on("GET", "http://169.254.170.23:80/v1/credentials", 500,
              R"({"code":"InternalError","message":"agent not ready"})");
    auto r = c.resolve();
    BOOST_TEST(r.error().message == "AWS credentials: ECS: GET http://169.254.170.23/v1/credentials returned "
                                    "HTTP 500: InternalError: agent not ready");
    BOOST_TEST(header(c.http.requests[0], "Authorization") == "env-token");

    c.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "bad\r\nInjected: 1");
    BOOST_TEST(c.resolve().error().message ==
               "AWS credentials: ECS: the container authorization token contains a line break");
}

// --- EC2 instance metadata ------------------------------------------------------

BOOST_AUTO_TEST_CASE(imdsv2_token_then_role_then_credentials)
{
    Chain c;
    testing::add_imds_routes(c.http, "app-role");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "ASIAIMDS");
    BOOST_TEST(r->secret_access_key.reveal() == "imds-secret");
    BOOST_TEST(r->session_token.reveal() == "imds-token");
    BOOST_TEST(r->provider == "EC2 IMDS");

    BOOST_TEST_REQUIRE(c.http.requests.size() == 3U);
    const auto& put = c.http.requests[0];
    BOOST_TEST(put.method == "PUT");
    BOOST_TEST(header(put, "X-aws-ec2-metadata-token-ttl-seconds") == "21600");
    BOOST_TEST(c.http.requests[1].url.target == "/latest/meta-data/iam/security-credentials/");
    BOOST_TEST(c.http.requests[2].url.target == "/latest/meta-data/iam/security-credentials/app-role");
    for (std::size_t i = 1; i < 3; ++i) {
        BOOST_TEST(header(c.http.requests[i], "X-aws-ec2-metadata-token") == "IMDS-TOKEN");
        BOOST_TEST(c.http.requests[i].allow_http);
        BOOST_TEST(c.http.requests[i].timeout.count() == 1000);
    }
}

BOOST_AUTO_TEST_CASE(imds_endpoint_and_mode_variables)
{
    Chain c;
    c.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");
    c.http.on("PUT", "http://fd00:ec2::254:80/latest/api/token", 500, "");
    auto r = c.resolve();
    BOOST_TEST(r.error().message ==
               c.nothing_configured() + "EC2 IMDS: PUT http://[fd00:ec2::254]/latest/api/token returned HTTP 500");

    c.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/");
    c.http.on("PUT", "http://127.0.0.1:1338/latest/api/token", 200, "T");
    c.http.on("GET", "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/", 404, "");
    BOOST_TEST(c.resolve().error().message ==
               c.nothing_configured() + "EC2 IMDS: no IAM role is attached to this instance");

    c.env.erase("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    c.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5");
    BOOST_TEST(c.resolve().error().message ==
               "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6, not 'IPv5'");
}

BOOST_AUTO_TEST_CASE(imds_falls_back_to_v1_unless_disabled)
{
    Chain c;
    c.http.on("PUT", std::string(testing::imds) + "/latest/api/token", 403, "");
    c.http.on("GET", std::string(testing::imds) + "/latest/meta-data/iam/security-credentials/r", 200,
              R"({"Code":"Success","AccessKeyId":"ASIAV1","SecretAccessKey":"s","Token":"t"})");
    c.http.on("GET", std::string(testing::imds) + "/latest/meta-data/iam/security-credentials/", 200, "r");
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(r->access_key_id == "ASIAV1");
    BOOST_TEST(header(c.http.requests[1], "X-aws-ec2-metadata-token") == "(absent)");

    c.env.set("AWS_EC2_METADATA_V1_DISABLED", "true");
    BOOST_TEST(c.resolve().error().message ==
               c.nothing_configured() + "EC2 IMDS: PUT http://169.254.169.254/latest/api/token returned HTTP 403");
}

BOOST_AUTO_TEST_CASE(imds_renews_an_expired_token_once)
{
    Chain c;
    int puts = 0;
    c.http.on("PUT", std::string(testing::imds) + "/latest/api/token", [&](const https::Request&) {
        https::Response response;
        response.status = 200;
        ++puts;
        response.body = util::str_cat("TOKEN-", std::to_string(puts));
        return Result<https::Response>(std::move(response));
    });
    c.http.on("GET", std::string(testing::imds) + "/latest/meta-data/iam/security-credentials/r", 200,
              R"({"Code":"Success","AccessKeyId":"ASIA2","SecretAccessKey":"s","Token":"t"})");
    c.http.on("GET", std::string(testing::imds) + "/latest/meta-data/iam/security-credentials/",
              [](const https::Request& request) {
                  https::Response response;
                  const bool fresh = header(request, "X-aws-ec2-metadata-token") == "TOKEN-2";
                  response.status = fresh ? 200 : 401;
                  if (fresh)
                      response.body.assign(1, 'r');
                  return Result<https::Response>(std::move(response));
              });
    auto r = c.resolve();
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    BOOST_TEST(puts == 2);
}

BOOST_AUTO_TEST_CASE(imds_error_documents_are_errors)
{
    Chain c;
    c.http.on("PUT", std::string(testing::imds) + "/latest/api/token", 200, "T");
    c.http.on("GET", std::string(testing::imds) + "/latest/meta-data/iam/security-credentials/r", 200,
              R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"EC2 cannot assume the role"})");
    c.http.on("GET", std::string(testing::imds) + "/latest/meta-data/iam/security-credentials/", 200, "r\n");
    BOOST_TEST(c.resolve().error().message ==
               c.nothing_configured() +
                   "EC2 IMDS: instance role 'r': AssumeRoleUnauthorizedAccess: EC2 cannot assume the role");
}

// --- region -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(region_order_is_env_then_profile_then_imds)
{
    Chain c;
    c.home.write(".aws/config", "[default]\nregion = eu-north-1\n");
    c.http.on("PUT", std::string(testing::imds) + "/latest/api/token", 200, "T");
    c.http.on("GET", std::string(testing::imds) + "/latest/meta-data/placement/region", 200, "ap-east-1\n");
    c.env.set("AWS_REGION", "us-west-1");
    c.env.set("AWS_DEFAULT_REGION", "us-west-2");
    BOOST_TEST(c.region().value() == "us-west-1");
    c.env.erase("AWS_REGION");
    BOOST_TEST(c.region().value() == "us-west-2");
    c.env.erase("AWS_DEFAULT_REGION");
    BOOST_TEST(c.region().value() == "eu-north-1");
    c.home.write(".aws/config", "[default]\n");
    BOOST_TEST(c.region().value() == "ap-east-1");
    BOOST_TEST(c.http.requests.size() == 2U);

    c.env.set("AWS_EC2_METADATA_DISABLED", "true");
    BOOST_TEST(c.region().error().message ==
               "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in profile 'default'); "
               "EC2 IMDS: disabled by AWS_EC2_METADATA_DISABLED");
}

// --- pieces --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(xml_extractor_decodes_entities_and_refuses_bad_ones)
{
    BOOST_TEST(xml_text("<a><b x=\"1\">&lt;&#65;&#x42;&amp;&quot;&apos;&gt;</b></a>", "b").value() == "<AB&\"'>");
    BOOST_TEST(xml_text("<Bb>no</Bb><B>yes</B>", "B").value() == "yes");
    BOOST_TEST(xml_text("<B/>", "B").value() == "");
    BOOST_TEST(!xml_text("<B>&bogus;</B>", "B").has_value());
    BOOST_TEST(!xml_text("<B>open", "B").has_value());
    BOOST_TEST(!xml_text("", "B").has_value());
}

BOOST_AUTO_TEST_CASE(sts_responses_without_credentials_are_refused)
{
    https::Response response;
    response.status = 200;
    response.body = "<AssumeRoleResponse><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>";
    BOOST_TEST(parse_sts_response(response, "AssumeRole").error().message ==
               "STS AssumeRole answered without Credentials");
    response.status = 503;
    response.body = "Service Unavailable";
    const auto e = parse_sts_response(response, "AssumeRole").error();
    BOOST_TEST(e.message == "STS AssumeRole failed: (HTTP 503)");
    BOOST_TEST((e.code == Errc::unavailable));
}

BOOST_AUTO_TEST_CASE(lists_the_credential_variables)
{
    const auto vars = aws_credential_variables();
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE"})
        BOOST_TEST((std::find(vars.begin(), vars.end(), name) != vars.end()), name);
}

BOOST_AUTO_TEST_SUITE_END()
