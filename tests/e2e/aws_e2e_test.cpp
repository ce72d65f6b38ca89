// The secrun binary end to end on the aws_secrets backend, against the AWS
// fake (tests/fakes/aws_fake.cpp), which verifies every SigV4 signature:
// each credential source, JSON fields, stages, ARNs, binary values, the
// errors users see, throttling, connection reuse and --aws-batch.
//
// Every secret value, secret key, session token and identity token in these
// scenarios contains the marker "XYZ"; no secret name or key id does. Every
// case checks that the marker never appears on stderr (nor on stdout when
// the command did not run).
#include "e2e/harness.hpp"
#include "fakes/fake_cloud_process.hpp"
#include "fakes/temp_dir.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <optional>
#include <sstream>

#include <sys/stat.h>

using namespace secrun;
using namespace secrun::e2e;
using testing::FakeCloudOptions;
using testing::FakeCloudProcess;
using testing::TempDir;
namespace json = boost::json;

namespace {

constexpr std::string_view marker = "XYZ";
constexpr std::string_view account = "111122223333";
constexpr std::string_view key_id = "AKIDE2EKEY";
constexpr std::string_view secret_key = "e2e-secret-key-XYZ";
constexpr std::string_view temp_key_id = "ASIAE2ETEMP";
constexpr std::string_view temp_secret = "e2e-temp-secret-XYZ";
constexpr std::string_view temp_token = "e2e-session-token-XYZ/+=";
constexpr std::string_view db_arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";
// A binary value with NUL bytes, as base64 (what SecretBinary carries).
const std::string binary_value("\x00\x01XYZ-binary\xff\x00\n", 15);
constexpr std::string_view binary_base64 = "AAFYWVotYmluYXJ5/wAK";

json::object issue(std::string_view prefix)
{
    const std::string p(prefix);
    return {{"access_key", "ASIA" + p + "ISSUED"},
            {"secret", p + "-issued-secret-XYZ"},
            {"session_token", p + "-issued-token-XYZ"}};
}

// The scenario every case starts from; cases add to it.
json::object base_scenario()
{
    json::object secrets{
        {"prod/db", {{"suffix", "AbCdEf"}, {"string", R"({"user":"muse-XYZ-user","password":"s3cr3t-XYZ-pass"})"}}},
        {"CH_HOST", {{"string", "ch-host-XYZ.example"}}},
        {"DD_API_KEY", {{"string", "dd-api-key-XYZ-0123"}}},
        {"prod/token",
         {{"versions", json::array{json::object{{"stages", json::array{"AWSPREVIOUS"}}, {"string", "old-token-XYZ"}},
                                   json::object{{"stages", json::array{"AWSCURRENT"}}, {"string", "new-token-XYZ"}}}}}},
        {"prod/bin", {{"binary", binary_base64}}},
        {"prod/private", {{"string", "private-XYZ"}, {"deny", json::array{key_id}}}},
        {"prod/gone", {{"string", "gone-XYZ"}, {"deleted", true}}},
    };
    return {{"account", account},
            {"credentials",
             {{key_id, {{"secret", secret_key}}},
              {temp_key_id, {{"secret", temp_secret}, {"session_token", temp_token}}}}},
            {"secrets", std::move(secrets)}};
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

struct AwsFixture {
    TempDir dir{"e2e-aws"};
    EnvMap env = base_env();
    std::optional<FakeCloudProcess> cloud;

    // Starts the fake with `aws` as its scenario and points secrun at it.
    void start(const json::object& aws)
    {
        const json::object scenario{{"vendors", {{"aws", aws}}}};
        cloud.emplace(FakeCloudOptions{.scenario = json::serialize(scenario)});
        env.set("HOME", dir.path().string()); // no ~/.aws files
        env.set("AWS_REGION", "us-east-1");
        env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", cloud->https_url());
        env.set("AWS_ENDPOINT_URL_STS", cloud->https_url());
        env.set("AWS_EC2_METADATA_DISABLED", "true");
        env.set("SSL_CERT_FILE", cloud->ca_file().string());
    }

    void use_key(bool with_session_token)
    {
        env.set("AWS_ACCESS_KEY_ID", std::string(with_session_token ? temp_key_id : key_id));
        env.set("AWS_SECRET_ACCESS_KEY", std::string(with_session_token ? temp_secret : secret_key));
        if (with_session_token)
            env.set("AWS_SESSION_TOKEN", std::string(temp_token));
    }

    std::string write(std::string_view name, std::string_view content) { return dir.write(name, content).string(); }

    Run run(std::vector<std::string> args)
    {
        args.insert(args.begin(), {"--timeout", "10s"});
        return run_secrun(args, env, dir.path(), std::chrono::seconds(30));
    }

    // Runs print_env under secrun with `manifest`; requires success.
    std::map<std::string, std::string> child_env(std::string_view manifest, std::vector<std::string> args = {},
                                                 Run* out = nullptr)
    {
        args.insert(args.end(), {"--manifest", write("secrets.manifest", manifest), "--", helper("print_env")});
        Run r = run(args);
        if (out)
            *out = r;
        BOOST_TEST_INFO("stderr: " << r.err << "\nserver log:\n" << cloud->log());
        BOOST_TEST_REQUIRE(r.status == 0);
        expect_no_leak(r, false);
        return parse_env0(r.out);
    }

    // Runs `secrun -m manifest -- print_env` expecting failure (125).
    Run failing(std::string_view manifest, std::vector<std::string> args = {})
    {
        args.insert(args.end(), {"--manifest", write("secrets.manifest", manifest), "--", helper("print_env")});
        Run r = run(args);
        BOOST_TEST_INFO("stderr: " << r.err);
        BOOST_TEST(r.status == 125);
        BOOST_TEST(r.out == ""); // the command never ran
        expect_no_leak(r, true);
        return r;
    }

    void expect_no_leak(const Run& r, bool check_stdout)
    {
        BOOST_TEST(!contains(r.err, marker), "stderr holds a secret: " << r.err);
        if (check_stdout)
            BOOST_TEST(!contains(r.out, marker));
    }

    std::uint64_t count(std::string_view name) const { return cloud->counter(name); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(aws_secrets_e2e)

// ---- credential sources ----------------------------------------------------

BOOST_FIXTURE_TEST_CASE(env_keys_with_session_token_fields_stages_and_arns, AwsFixture)
{
    start(base_scenario());
    use_key(true);
    auto vars = child_env("DB_USER     = aws_secrets://prod/db#user\n"
                          "DB_PASSWORD = aws_secrets://prod/db#password\n"
                          "OLD_TOKEN   = aws_secrets://prod/token?stage=AWSPREVIOUS\n"
                          "NEW_TOKEN   = aws_secrets://prod/token\n"
                          "BY_ARN      = aws_secrets://" + std::string(db_arn) + "#password\n"
                          "BY_PARTIAL  = aws_secrets://arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db#user\n");
    BOOST_TEST(vars["DB_USER"] == "muse-XYZ-user");
    BOOST_TEST(vars["DB_PASSWORD"] == "s3cr3t-XYZ-pass");
    BOOST_TEST(vars["OLD_TOKEN"] == "old-token-XYZ");
    BOOST_TEST(vars["NEW_TOKEN"] == "new-token-XYZ");
    BOOST_TEST(vars["BY_ARN"] == "s3cr3t-XYZ-pass");
    BOOST_TEST(vars["BY_PARTIAL"] == "muse-XYZ-user");
    // prod/db by name, by ARN and by partial ARN; prod/token at two stages.
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 5u);
    BOOST_TEST(count("vendor.aws.error.InvalidSignatureException") == 0u);
}

BOOST_FIXTURE_TEST_CASE(seed_document_bare_names_with_long_term_keys_and_an_endpoint_path, AwsFixture)
{
    start(base_scenario());
    use_key(false);
    env.set("SECRETS_BACKEND", "aws_secrets");
    // An endpoint URL with a path: the request goes there and is signed for it.
    env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", cloud->https_url() + "/aws/secrets-manager");
    auto vars = child_env("CH_HOST\nDD_API_KEY\n");
    BOOST_TEST(vars["CH_HOST"] == "ch-host-XYZ.example");
    BOOST_TEST(vars["DD_API_KEY"] == "dd-api-key-XYZ-0123");
    BOOST_TEST(cloud->requests("POST", "/aws/secrets-manager") == 2u);
}

BOOST_FIXTURE_TEST_CASE(profile_in_config_and_credentials_files, AwsFixture)
{
    start(base_scenario());
    env.erase("AWS_REGION"); // from the profile
    env.set("AWS_PROFILE", "e2e");
    env.set("AWS_CONFIG_FILE", write("config", "[default]\nregion = eu-west-3\n\n[profile e2e]\nregion = us-east-1\n"));
    env.set("AWS_SHARED_CREDENTIALS_FILE",
            write("credentials", "[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong-XYZ\n\n"
                                 "[e2e]\naws_access_key_id = " + std::string(key_id) +
                                     "\naws_secret_access_key = " + std::string(secret_key) + "\n"));
    auto vars = child_env("CH_HOST = aws_secrets://CH_HOST\n");
    BOOST_TEST(vars["CH_HOST"] == "ch-host-XYZ.example");
}

BOOST_FIXTURE_TEST_CASE(credential_process_runs_once, AwsFixture)
{
    start(base_scenario());
    const std::string runs = (dir / "runs").string();
    const std::string script =
        write("creds.sh", "echo run >> '" + runs + "'\n"
                          "printf '%s' '{\"Version\": 1, \"AccessKeyId\": \"" + std::string(temp_key_id) +
                              "\", \"SecretAccessKey\": \"" + std::string(temp_secret) + "\", \"SessionToken\": \"" +
                              std::string(temp_token) + "\"}'\n");
    env.set("AWS_PROFILE", "proc");
    env.set("AWS_CONFIG_FILE", write("config", "[profile proc]\ncredential_process = /bin/sh " + script + "\n"));
    auto vars = child_env("A = aws_secrets://CH_HOST\nB = aws_secrets://DD_API_KEY\nC = aws_secrets://prod/db#user\n");
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
    BOOST_TEST(vars["B"] == "dd-api-key-XYZ-0123");
    BOOST_TEST(vars["C"] == "muse-XYZ-user");
    BOOST_TEST(read_file(runs) == "run\n");
}

BOOST_FIXTURE_TEST_CASE(ecs_full_uri_with_an_authorization_token_file, AwsFixture)
{
    auto scenario = base_scenario();
    scenario["ecs"] = {{"path", "/v2/credentials/e2e"}, {"authorization", "ecs-auth-XYZ"}, {"issue", issue("ECS")}};
    start(scenario);
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", cloud->http_url() + "/v2/credentials/e2e");
    env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", write("ecs-token", "ecs-auth-XYZ\n"));
    auto vars = child_env("A = aws_secrets://CH_HOST\nB = aws_secrets://prod/db#password\n");
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
    BOOST_TEST(vars["B"] == "s3cr3t-XYZ-pass");
    BOOST_TEST(count("vendor.aws.ecs.credentials") == 1u);
}

BOOST_FIXTURE_TEST_CASE(imdsv2_gives_credentials_and_the_region, AwsFixture)
{
    auto scenario = base_scenario();
    scenario["imds"] = {{"role", "e2e-role"}, {"region", "us-east-1"}, {"issue", issue("IMDS")}};
    start(scenario);
    env.erase("AWS_EC2_METADATA_DISABLED");
    env.erase("AWS_REGION"); // from the instance
    env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", cloud->http_url());
    auto vars = child_env("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
    BOOST_TEST(count("vendor.aws.imds.credentials") == 1u);
    BOOST_TEST(count("vendor.aws.error.imds_unauthorized") == 0u); // every GET carried the token
    BOOST_TEST(cloud->requests("GET", "/latest/meta-data/placement/region") == 1u);
}

BOOST_FIXTURE_TEST_CASE(web_identity_through_sts, AwsFixture)
{
    const std::string role = "arn:aws:iam::111122223333:role/e2e-web";
    auto scenario = base_scenario();
    scenario["sts"] = {{"web_identity", {{"oidc-token-XYZ.payload.sig", {{"role_arn", role}, {"issue", issue("WEB")}}}}}};
    start(scenario);
    env.set("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", "oidc-token-XYZ.payload.sig\n"));
    env.set("AWS_ROLE_ARN", role);
    auto vars = child_env("A = aws_secrets://CH_HOST\nB = aws_secrets://DD_API_KEY\n");
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
    BOOST_TEST(vars["B"] == "dd-api-key-XYZ-0123");
    BOOST_TEST(count("vendor.aws.sts.AssumeRoleWithWebIdentity") == 1u);
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 2u);
}

BOOST_FIXTURE_TEST_CASE(profile_role_arn_with_source_profile_assumes_the_role, AwsFixture)
{
    const std::string role = "arn:aws:iam::111122223333:role/e2e-assumed";
    auto scenario = base_scenario();
    scenario["sts"] = {{"roles", {{role, {{"trusted", json::array{key_id}}, {"issue", issue("ROLE")}}}}}};
    // Only the assumed role may read the secret: the source keys alone may not.
    scenario["secrets"].as_object()["CH_HOST"].as_object()["allow"] = json::array{role};
    start(scenario);
    env.set("AWS_PROFILE", "app");
    env.set("AWS_CONFIG_FILE", write("config", "[profile app]\nrole_arn = " + role + "\nsource_profile = base\n"));
    env.set("AWS_SHARED_CREDENTIALS_FILE", write("credentials", "[base]\naws_access_key_id = " + std::string(key_id) +
                                                                    "\naws_secret_access_key = " +
                                                                    std::string(secret_key) + "\n"));
    auto vars = child_env("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
    BOOST_TEST(count("vendor.aws.sts.AssumeRole") == 1u);
}

BOOST_FIXTURE_TEST_CASE(config_files_set_to_dev_null_read_as_empty, AwsFixture)
{
    // A common way to say "no shared files" (botocore accepts it).
    start(base_scenario());
    use_key(false);
    env.set("AWS_CONFIG_FILE", "/dev/null");
    env.set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    auto vars = child_env("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
}

BOOST_FIXTURE_TEST_CASE(a_fifo_as_config_file_is_refused_without_waiting_for_a_writer, AwsFixture)
{
    start(base_scenario());
    use_key(false);
    const auto fifo = dir / "config-fifo";
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    env.set("AWS_CONFIG_FILE", fifo.string());
    const auto started = std::chrono::steady_clock::now();
    Run r = failing("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(contains(r.err, "secrun: error: aws_secrets (needed by A): cannot read " + fifo.string() +
                                   ": not a regular file\n"));
    const auto elapsed = std::chrono::steady_clock::now() - started;
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() < 5000);
}

BOOST_FIXTURE_TEST_CASE(credential_source_failures_name_the_source_never_the_token, AwsFixture)
{
    const std::string role = "arn:aws:iam::111122223333:role/e2e-web";
    auto scenario = base_scenario();
    scenario["ecs"] = {{"authorization", "ecs-auth-XYZ"}, {"issue", issue("ECS")}};
    scenario["sts"] = {{"web_identity", {{"oidc-token-XYZ.payload.sig", {{"role_arn", role}, {"issue", issue("WEB")}}}}}};
    start(scenario);

    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", cloud->http_url() + "/v2/credentials/task");
    env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-ecs-auth-XYZ");
    Run ecs = failing("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(contains(ecs.err, "secrun: error: aws_secrets (needed by A): AWS credentials: ECS: GET " +
                                     cloud->http_url() + "/v2/credentials/task returned HTTP 401: "
                                                         "AccessDeniedException: Authorization token is missing "
                                                         "or invalid (fake)\n"));
    env.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    env.erase("AWS_CONTAINER_AUTHORIZATION_TOKEN");

    env.set("AWS_WEB_IDENTITY_TOKEN_FILE", write("token", "unknown-oidc-token-XYZ\n"));
    env.set("AWS_ROLE_ARN", role);
    Run web = failing("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(contains(web.err, "secrun: error: aws_secrets (needed by A): AWS credentials: web identity: STS "
                                 "AssumeRoleWithWebIdentity failed: InvalidIdentityToken (HTTP 400): The web "
                                 "identity token is not valid for this identity provider (fake)\n"));
    BOOST_TEST(count("vendor.aws.credentials_issued") == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_full_arn_is_fetched_from_its_own_region, AwsFixture)
{
    auto scenario = base_scenario();
    scenario["secrets"].as_object()["eu/db"] = {{"region", "eu-west-1"}, {"suffix", "EuRoPe"}, {"string", "eu-XYZ"}};
    start(scenario);
    use_key(false);
    env.erase("AWS_REGION"); // only ARNs: no region needed
    auto vars = child_env("EU = aws_secrets://arn:aws:secretsmanager:eu-west-1:111122223333:secret:eu/db-EuRoPe\n");
    BOOST_TEST(vars["EU"] == "eu-XYZ");
    // By name, the configured region is asked, where the secret does not live.
    env.set("AWS_REGION", "us-east-1");
    Run r = failing("EU = aws_secrets://eu/db\n");
    BOOST_TEST(contains(r.err, "secrun: error: EU: aws_secrets://eu/db: secret 'eu/db': not found "
                               "(ResourceNotFoundException): Secrets Manager can't find the specified secret.\n"));
}

BOOST_FIXTURE_TEST_CASE(endpoint_paths_with_a_trailing_slash_and_an_escape_are_signed_as_sent, AwsFixture)
{
    start(base_scenario());
    use_key(true);
    env.erase("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    env.set("AWS_ENDPOINT_URL", cloud->https_url() + "/aws/a%20b/"); // the global override
    auto vars = child_env("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
    BOOST_TEST(cloud->requests("POST", "/aws/a b/") == 1u);
}

// ---- values ------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(binary_secret_into_a_file_byte_for_byte, AwsFixture)
{
    start(base_scenario());
    use_key(false);
    const std::string out = (dir / "copy.bin").string();
    Run r = run({"--manifest", write("m", "BIN = aws_secrets://prod/bin file\n"), "--", "/bin/sh", "-c",
                 "cp \"$BIN\" '" + out + "'"});
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST_REQUIRE(r.status == 0);
    expect_no_leak(r, true);
    BOOST_TEST(read_file(out) == binary_value);
}

BOOST_FIXTURE_TEST_CASE(binary_secret_into_a_variable_is_refused_by_name, AwsFixture)
{
    start(base_scenario());
    use_key(false);
    Run r = failing("BIN = aws_secrets://prod/bin\nOK = aws_secrets://CH_HOST\n");
    BOOST_TEST(contains(r.err, "secrun: error: BIN: aws_secrets://prod/bin: the value contains a NUL byte, which an "
                               "environment variable cannot hold; use a file entry (add 'file' to the manifest line)"));
}

// ---- errors ------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(not_found_denied_and_deleted_are_reported_by_name, AwsFixture)
{
    start(base_scenario());
    use_key(false);
    Run r = failing("MISSING = aws_secrets://prod/missing\n"
                    "PRIVATE = aws_secrets://prod/private\n"
                    "GONE    = aws_secrets://prod/gone\n"
                    "STAGE   = aws_secrets://prod/token?stage=AWSPENDING\n"
                    "GOOD    = aws_secrets://prod/db#password\n");
    BOOST_TEST(contains(r.err, "secrun: error: MISSING: aws_secrets://prod/missing: secret 'prod/missing': not found "
                               "(ResourceNotFoundException): Secrets Manager can't find the specified secret.\n"));
    BOOST_TEST(contains(r.err, "secrun: error: PRIVATE: aws_secrets://prod/private: secret 'prod/private': access "
                               "denied (AccessDeniedException): User: AKIDE2EKEY is not authorized to perform: "
                               "secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:"
                               "111122223333:secret:prod/private-"));
    BOOST_TEST(contains(r.err, "secrun: error: GONE: aws_secrets://prod/gone: secret 'prod/gone': invalid request "
                               "(InvalidRequestException): You can't perform this operation on the secret because it "
                               "was marked for deletion.\n"));
    BOOST_TEST(contains(r.err, "secrun: error: STAGE: aws_secrets://prod/token?stage=AWSPENDING: secret 'prod/token': "
                               "not found (ResourceNotFoundException): Secrets Manager can't find the specified secret "
                               "value for staging label: AWSPENDING\n"));
    BOOST_TEST(!contains(r.err, "GOOD"));
}

BOOST_FIXTURE_TEST_CASE(a_wrong_secret_key_and_an_unknown_key_are_rejected_by_the_fake, AwsFixture)
{
    start(base_scenario());
    env.set("AWS_ACCESS_KEY_ID", std::string(key_id));
    env.set("AWS_SECRET_ACCESS_KEY", "not-the-key-XYZ");
    Run wrong = failing("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(contains(wrong.err, "secrun: error: A: aws_secrets://CH_HOST: secret 'CH_HOST': the signature was "
                                   "rejected (InvalidSignatureException): The request signature we calculated does "
                                   "not match the signature you provided. Check your AWS Secret Access Key and "
                                   "signing method. Consult the service documentation for details.; the secret "
                                   "access key does not belong to the access key id\n"));
    env.set("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN");
    Run unknown = failing("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(contains(unknown.err, "secrun: error: A: aws_secrets://CH_HOST: secret 'CH_HOST': the credentials are "
                                     "not recognised (UnrecognizedClientException): The security token included in "
                                     "the request is invalid.\n"));
}

BOOST_FIXTURE_TEST_CASE(a_skewed_clock_is_reported_with_a_hint, AwsFixture)
{
    auto scenario = base_scenario();
    scenario["clock_offset_seconds"] = 600; // the service is 10 minutes ahead of us
    start(scenario);
    use_key(false);
    Run r = failing("A = aws_secrets://CH_HOST\n");
    BOOST_TEST(contains(r.err, "secrun: error: A: aws_secrets://CH_HOST: secret 'CH_HOST': the signature was rejected "
                               "(InvalidSignatureException): Signature expired: "));
    BOOST_TEST(contains(r.err, " - 5 min.); check the system clock: AWS accepts at most 5 minutes of difference\n"));
}

BOOST_FIXTURE_TEST_CASE(throttling_is_retried, AwsFixture)
{
    auto scenario = base_scenario();
    scenario["throttle"] = {{"GetSecretValue", 2}};
    start(scenario);
    use_key(false);
    auto vars = child_env("A = aws_secrets://CH_HOST\n", {"--retries", "3"});
    BOOST_TEST(vars["A"] == "ch-host-XYZ.example");
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 3u);
    BOOST_TEST(count("vendor.aws.error.ThrottlingException") == 2u);
}

// ---- fetching economy ---------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_hundred_secrets_one_credential_fetch_few_connections, AwsFixture)
{
    auto scenario = base_scenario();
    std::string manifest;
    for (int i = 0; i < 100; ++i) {
        const std::string n = std::to_string(1000 + i).substr(1);
        scenario["secrets"].as_object()["app/s" + n] = {{"string", "value-" + n + "-XYZ"}};
        manifest += "S" + n + " = aws_secrets://app/s" + n + "\n";
    }
    scenario["ecs"] = {{"issue", issue("ECS")}};
    start(scenario);
    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", cloud->http_url() + "/v2/credentials/task");
    auto vars = child_env(manifest, {"--concurrency", "4"});
    for (int i = 0; i < 100; ++i) {
        const std::string n = std::to_string(1000 + i).substr(1);
        BOOST_TEST(vars["S" + n] == "value-" + n + "-XYZ");
    }
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 100u);
    BOOST_TEST(count("vendor.aws.ecs.credentials") == 1u);
    BOOST_TEST(count("connections.https") <= 4u);
    BOOST_TEST(count("tls_handshakes") <= 4u);
}

BOOST_FIXTURE_TEST_CASE(fields_of_one_secret_are_fetched_once, AwsFixture)
{
    start(base_scenario());
    use_key(false);
    auto vars = child_env("DB_USER = aws_secrets://prod/db#user\nDB_PASSWORD = aws_secrets://prod/db#password\n"
                          "AGAIN = aws_secrets://prod/db#password\n");
    BOOST_TEST(vars["DB_USER"] == "muse-XYZ-user");
    BOOST_TEST(vars["DB_PASSWORD"] == "s3cr3t-XYZ-pass");
    BOOST_TEST(vars["AGAIN"] == "s3cr3t-XYZ-pass");
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 1u);
}

BOOST_FIXTURE_TEST_CASE(aws_batch_fetches_twenty_a_call, AwsFixture)
{
    auto scenario = base_scenario();
    std::string manifest = "OLD = aws_secrets://prod/token?stage=AWSPREVIOUS\n"; // not batchable
    for (int i = 0; i < 45; ++i) {
        const std::string n = std::to_string(100 + i).substr(1);
        scenario["secrets"].as_object()["batch/b" + n] = {{"string", "batch-" + n + "-XYZ"}};
        manifest += "B" + n + " = aws_secrets://batch/b" + n + "\n";
    }
    start(scenario);
    use_key(false);
    auto vars = child_env(manifest, {"--aws-batch"});
    for (int i = 0; i < 45; ++i) {
        const std::string n = std::to_string(100 + i).substr(1);
        BOOST_TEST(vars["B" + n] == "batch-" + n + "-XYZ");
    }
    BOOST_TEST(vars["OLD"] == "old-token-XYZ");
    BOOST_TEST(count("vendor.aws.BatchGetSecretValue") == 3u); // ceil(45 / 20)
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 1u);
}

BOOST_FIXTURE_TEST_CASE(aws_batch_follows_next_token_and_reports_per_secret_errors, AwsFixture)
{
    auto scenario = base_scenario();
    scenario["batch_page_size"] = 7;
    std::string manifest;
    for (int i = 0; i < 18; ++i) {
        const std::string n = std::to_string(100 + i).substr(1);
        scenario["secrets"].as_object()["batch/b" + n] = {{"string", "batch-" + n + "-XYZ"}};
        manifest += "B" + n + " = aws_secrets://batch/b" + n + "\n";
    }
    start(scenario);
    use_key(false);
    auto vars = child_env(manifest, {"--aws-batch"});
    for (int i = 0; i < 18; ++i) {
        const std::string n = std::to_string(100 + i).substr(1);
        BOOST_TEST(vars["B" + n] == "batch-" + n + "-XYZ");
    }
    BOOST_TEST(count("vendor.aws.BatchGetSecretValue") == 3u); // pages of 7, 7 and 4
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 0u);

    Run r = failing(manifest + "MISSING = aws_secrets://batch/missing\nPRIVATE = aws_secrets://prod/private\n",
                    {"--aws-batch"});
    BOOST_TEST(contains(r.err, "secrun: error: MISSING: aws_secrets://batch/missing: secret 'batch/missing': not "
                               "found (ResourceNotFoundException): Secrets Manager can't find the specified "
                               "secret.\n"));
    BOOST_TEST(contains(r.err, "secrun: error: PRIVATE: aws_secrets://prod/private: secret 'prod/private': access "
                               "denied (AccessDeniedException): User: AKIDE2EKEY is not authorized to perform: "
                               "secretsmanager:GetSecretValue"));
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 0u); // the batch answers carried the errors
}

BOOST_FIXTURE_TEST_CASE(aws_batch_falls_back_when_batch_calls_are_denied, AwsFixture)
{
    auto scenario = base_scenario();
    scenario["deny_actions"] = {{"BatchGetSecretValue", json::array{"*"}}};
    std::string manifest;
    for (int i = 0; i < 25; ++i) {
        const std::string n = std::to_string(100 + i).substr(1);
        scenario["secrets"].as_object()["batch/b" + n] = {{"string", "batch-" + n + "-XYZ"}};
        manifest += "B" + n + " = aws_secrets://batch/b" + n + "\n";
    }
    start(scenario);
    use_key(false);
    auto vars = child_env(manifest, {"--aws-batch"});
    for (int i = 0; i < 25; ++i) {
        const std::string n = std::to_string(100 + i).substr(1);
        BOOST_TEST(vars["B" + n] == "batch-" + n + "-XYZ");
    }
    BOOST_TEST(count("vendor.aws.BatchGetSecretValue") == 1u);
    BOOST_TEST(count("vendor.aws.error.AccessDeniedException") == 1u);
    BOOST_TEST(count("vendor.aws.GetSecretValue") == 25u);
}

BOOST_AUTO_TEST_SUITE_END()
