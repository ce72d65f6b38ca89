#include "backends/aws_secrets_backend.hpp"

#include "backends/aws_secrets_protocol.hpp"

#include "auth/aws_endpoints.hpp"
#include "auth/aws_errors.hpp"
#include "auth/sigv4.hpp"
#include "fakes/fake_https_client.hpp"
#include "fakes/run_awaitable.hpp"
#include "log.hpp"
#include "unit/aws_test_support.hpp"
#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <sstream>

using namespace secrun;
using namespace secrun::backends;
namespace json = boost::json;

namespace {

constexpr std::string_view sm_eu = "https://secretsmanager.eu-west-1.amazonaws.com:443/";
constexpr std::string_view example_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::string header(const https::Request& r, std::string_view name)
{
    for (const auto& [key, value] : r.headers)
        if (util::iequals(key, name))
            return value;
    return "(absent)";
}

https::Response respond(unsigned status, std::string body, https::Headers headers = {})
{
    https::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

std::string value_json(std::string_view name, std::string_view secret_string, std::string_view region = "eu-west-1")
{
    json::object o;
    o["ARN"] = util::str_cat("arn:aws:secretsmanager:", region, ":111122223333:secret:", name, "-AbCdEf");
    o["Name"] = name;
    o["VersionId"] = "v-current";
    o["SecretString"] = secret_string;
    o["VersionStages"] = json::array{"AWSCURRENT"};
    o["CreatedDate"] = 1.523477145713E9;
    return json::serialize(o);
}

// A Secrets Manager double: GetSecretValue and BatchGetSecretValue over
// `values`; unknown ids are ResourceNotFoundException.
struct FakeSecretsManager {
    std::map<std::string, std::string> values; // SecretId -> SecretString
    std::map<std::string, std::pair<unsigned, std::string>> failures; // SecretId -> (status, body)
    std::vector<std::vector<std::string>> batches; // SecretIdList of every batch call

    Result<https::Response> operator()(const https::Request& request)
    {
        const auto body = json::parse(request.body).as_object();
        const std::string target = header(request, "X-Amz-Target");
        if (target == "secretsmanager.GetSecretValue") {
            const std::string id(body.at("SecretId").as_string());
            if (auto f = failures.find(id); f != failures.end())
                return respond(f->second.first, f->second.second);
            if (auto v = values.find(id); v != values.end())
                return respond(200, value_json(id, v->second));
            return respond(400, R"({"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."})");
        }
        if (target == "secretsmanager.BatchGetSecretValue") {
            json::array found;
            json::array errors;
            std::vector<std::string> asked;
            for (const auto& id : body.at("SecretIdList").as_array()) {
                const std::string name(id.as_string());
                asked.push_back(name);
                if (auto v = values.find(name); v != values.end())
                    found.push_back(json::parse(value_json(name, v->second)));
                else
                    errors.push_back(json::object{{"SecretId", name},
                                                  {"ErrorCode", "ResourceNotFoundException"},
                                                  {"Message", "Secrets Manager can't find the specified secret."}});
            }
            batches.push_back(std::move(asked));
            return respond(200, json::serialize(json::object{{"SecretValues", found}, {"Errors", errors}}));
        }
        return respond(400, R"({"__type":"UnknownOperationException"})");
    }
};

struct Fixture {
    testing::TempDir home;
    EnvMap env;
    testing::FakeHttpsClient http;
    bool batch = false;
    std::optional<Context> context;
    std::unique_ptr<Backend> backend;

    Fixture()
    {
        env.set("HOME", home.str());
        env.set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
        env.set("AWS_SECRET_ACCESS_KEY", std::string(example_secret));
        env.set("AWS_REGION", "eu-west-1");
    }

    Backend& make()
    {
        context.emplace(Context{env, http, {}, false, batch, testing::fixed_now});
        backend = make_aws_secrets_backend(*context);
        return *backend;
    }

    Result<void> prepare(std::vector<SecretId> ids)
    {
        if (!backend)
            make();
        return testing::run(backend->prepare(std::move(ids)));
    }

    // prepare(), then every fetch concurrently on one event loop, as the resolver does.
    std::vector<Result<Fetched>> resolve(const std::vector<SecretId>& ids)
    {
        auto prepared = prepare(ids);
        BOOST_TEST_REQUIRE(prepared.has_value(), (prepared.has_error() ? prepared.error().message : ""));
        boost::asio::io_context ioc;
        std::vector<std::optional<Result<Fetched>>> slots(ids.size());
        for (std::size_t i = 0; i < ids.size(); ++i)
            boost::asio::co_spawn(ioc, backend->fetch(ids[i]),
                                  [&slots, i](std::exception_ptr e, Result<Fetched> r) {
                                      if (!e)
                                          slots[i].emplace(std::move(r));
                                  });
        ioc.run();
        std::vector<Result<Fetched>> out;
        for (auto& slot : slots) {
            BOOST_TEST_REQUIRE(slot.has_value());
            out.push_back(std::move(*slot));
        }
        return out;
    }

    Result<Fetched> fetch_one(SecretId id) { return std::move(resolve({std::move(id)}).front()); }
};

// Recomputes the request's signature with the signer at the fixed time.
void check_signature(const https::Request& sent, std::string_view region, std::string token = {})
{
    https::Request again = sent;
    std::erase_if(again.headers, [](const auto& h) {
        return util::iequals(h.first, "Authorization") || util::iequals(h.first, "X-Amz-Date") ||
               util::iequals(h.first, "X-Amz-Security-Token");
    });
    auth::AwsCredentials credentials;
    credentials.access_key_id = "AKIDEXAMPLE";
    credentials.secret_access_key = SecretString(example_secret);
    credentials.session_token = SecretString(std::string_view(token));
    auto expected = auth::sigv4::sign(again, credentials, {std::string(region), "secretsmanager"}, testing::fixed_time);
    BOOST_TEST_REQUIRE(expected.has_value());
    BOOST_TEST(header(sent, "Authorization") == expected->authorization);
    BOOST_TEST(header(sent, "X-Amz-Date") == "20150830T123600Z");
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_secrets_backend)

BOOST_AUTO_TEST_CASE(get_secret_value_is_a_signed_json_post)
{
    Fixture f;
    FakeSecretsManager sm;
    sm.values["prod/db"] = R"({"username":"app","password":"p@ss"})";
    f.http.on("POST", std::string(sm_eu), std::ref(sm));
    auto r = f.fetch_one({"prod/db", "", ""});
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    // The whole JSON value: field selection is the resolver's job.
    BOOST_TEST(r->value.reveal() == R"({"username":"app","password":"p@ss"})");
    BOOST_TEST(r->version == "v-current");
    BOOST_TEST(r->source == "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf");

    BOOST_TEST_REQUIRE(f.http.requests.size() == 1U);
    const https::Request& sent = f.http.requests[0];
    BOOST_TEST(sent.method == "POST");
    BOOST_TEST(testing::FakeHttpsClient::full_url(sent.url) == sm_eu);
    BOOST_TEST(sent.body == R"({"SecretId":"prod/db"})");
    BOOST_TEST(header(sent, "Content-Type") == "application/x-amz-json-1.1");
    BOOST_TEST(header(sent, "X-Amz-Target") == "secretsmanager.GetSecretValue");
    BOOST_TEST(header(sent, "X-Amz-Security-Token") == "(absent)");
    BOOST_TEST(header(sent, "Authorization") ==
               "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/secretsmanager/aws4_request, "
               "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" +
                   header(sent, "Authorization").substr(header(sent, "Authorization").rfind('=') + 1));
    check_signature(sent, "eu-west-1");
    BOOST_TEST(!sent.allow_http);
    BOOST_TEST(static_cast<bool>(sent.retry_if));
}

BOOST_AUTO_TEST_CASE(version_and_stage_go_into_the_body_and_the_token_is_signed)
{
    Fixture f;
    f.env.set("AWS_SESSION_TOKEN", "AQoDYXdzEXAMPLETOKEN");
    FakeSecretsManager sm;
    sm.values["prod/token"] = "old-token-value";
    f.http.on("POST", std::string(sm_eu), std::ref(sm));
    auto r = f.fetch_one({"prod/token", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "AWSPREVIOUS"});
    BOOST_TEST_REQUIRE(r.has_value());
    const https::Request& sent = f.http.requests[0];
    BOOST_TEST(sent.body == R"({"SecretId":"prod/token","VersionId":"3fa85f64-5717-4562-b3fc-2c963f66afa6",)"
                            R"("VersionStage":"AWSPREVIOUS"})");
    BOOST_TEST(header(sent, "X-Amz-Security-Token") == "AQoDYXdzEXAMPLETOKEN");
    BOOST_TEST(header(sent, "Authorization").find(
                   "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,") !=
               std::string::npos);
    check_signature(sent, "eu-west-1", "AQoDYXdzEXAMPLETOKEN");
}

BOOST_AUTO_TEST_CASE(an_arn_names_the_region_and_partition)
{
    Fixture f;
    f.env.erase("AWS_REGION");
    f.env.set("AWS_EC2_METADATA_DISABLED", "true"); // no region needed, none looked up
    FakeSecretsManager east;
    east.values["arn:aws:secretsmanager:us-east-2:111122223333:secret:prod/db-AbCdEf"] = "v1";
    FakeSecretsManager china;
    china.values["arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:prod/db"] = "v2";
    f.http.on("POST", "https://secretsmanager.us-east-2.amazonaws.com:443/", std::ref(east));
    f.http.on("POST", "https://secretsmanager.cn-north-1.amazonaws.com.cn:443/", std::ref(china));
    auto results = f.resolve({{"arn:aws:secretsmanager:us-east-2:111122223333:secret:prod/db-AbCdEf", "", ""},
                              {"arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:prod/db", "", ""}});
    BOOST_TEST_REQUIRE(results[0].has_value(), (results[0].has_error() ? results[0].error().message : ""));
    BOOST_TEST_REQUIRE(results[1].has_value(), (results[1].has_error() ? results[1].error().message : ""));
    BOOST_TEST(results[0]->value.reveal() == "v1");
    BOOST_TEST(results[1]->value.reveal() == "v2");
    check_signature(f.http.requests[0], "us-east-2");
    check_signature(f.http.requests[1], "cn-north-1");
}

BOOST_AUTO_TEST_CASE(the_arn_region_wins_over_the_configured_one)
{
    Fixture f;
    FakeSecretsManager west;
    west.values["arn:aws:secretsmanager:us-west-2:1:secret:x"] = "x";
    f.http.on("POST", "https://secretsmanager.us-west-2.amazonaws.com:443/", std::ref(west));
    BOOST_TEST(f.fetch_one({"arn:aws:secretsmanager:us-west-2:1:secret:x", "", ""}).has_value());
    check_signature(f.http.requests[0], "us-west-2");
}

BOOST_AUTO_TEST_CASE(secret_binary_is_decoded_byte_for_byte)
{
    Fixture f;
    const std::string bytes("\x00\x01\xff\n=bin\x00", 9);
    f.http.on("POST", std::string(sm_eu), 200,
              R"({"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:bin-AbCdEf","Name":"bin","VersionId":"v",)"
              R"("SecretBinary":")" + util::base64_encode(bytes) + "\"}");
    auto r = f.fetch_one({"bin", "", ""});
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->value.reveal() == bytes); // the NUL byte is for the resolver to refuse by name
    BOOST_TEST(r->value.size() == 9U);
}

BOOST_AUTO_TEST_CASE(malformed_answers_are_errors)
{
    Fixture f;
    f.http.on("POST", std::string(sm_eu), [](const https::Request& request) -> Result<https::Response> {
        const auto id = json::parse(request.body).as_object().at("SecretId").as_string();
        if (id == "badb64")
            return respond(200, R"({"Name":"badb64","SecretBinary":"not base64!"})");
        if (id == "empty")
            return respond(200, R"({"Name":"empty","VersionId":"v"})");
        return respond(200, "<html>hello</html>");
    });
    auto results = f.resolve({{"badb64", "", ""}, {"empty", "", ""}, {"html", "", ""}});
    BOOST_TEST(results[0].error().message == "secret 'badb64': SecretBinary is not valid base64");
    BOOST_TEST(results[1].error().message == "secret 'empty': the answer has neither SecretString nor SecretBinary");
    BOOST_TEST(results[2].error().message ==
               "secret 'html': GetSecretValue answered something that is not a JSON object");
    BOOST_TEST((results[2].error().code == Errc::bad_response));
}

struct ErrorCase {
    unsigned status;
    std::string body;
    https::Headers headers;
    std::string message;
    Errc code;
};

BOOST_AUTO_TEST_CASE(maps_every_error_to_one_line_naming_the_secret)
{
    const std::string long_text(400, 'x');
    const std::vector<ErrorCase> cases = {
        {400, R"({"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."})", {},
         "secret 'prod/db': not found (ResourceNotFoundException): Secrets Manager can't find the specified secret.",
         Errc::not_found},
        {400, R"({"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException:http://internal","message":"gone"})", {},
         "secret 'prod/db': not found (ResourceNotFoundException): gone", Errc::not_found},
        {400, R"({"__type":"AccessDeniedException","Message":"User: arn:aws:iam::1:user/u is not authorized to perform: secretsmanager:GetSecretValue"})", {},
         "secret 'prod/db': access denied (AccessDeniedException): User: arn:aws:iam::1:user/u is not authorized "
         "to perform: secretsmanager:GetSecretValue",
         Errc::auth},
        {400, R"({"__type":"DecryptionFailure","Message":"Access to KMS is not allowed"})", {},
         "secret 'prod/db': cannot be decrypted with its KMS key (DecryptionFailure): Access to KMS is not allowed",
         Errc::auth},
        {400, R"({"__type":"InvalidRequestException","message":"You can't perform this operation on the secret because it was marked for deletion."})", {},
         "secret 'prod/db': invalid request (InvalidRequestException): You can't perform this operation on the "
         "secret because it was marked for deletion.",
         Errc::config},
        {400, R"({"__type":"InvalidParameterException","message":"bad"})", {},
         "secret 'prod/db': invalid parameter (InvalidParameterException): bad", Errc::config},
        {400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})", {},
         "secret 'prod/db': throttled by Secrets Manager (ThrottlingException): Rate exceeded", Errc::unavailable},
        {400, R"({"__type":"ExpiredTokenException","message":"The security token included in the request is expired"})", {},
         "secret 'prod/db': the credentials have expired (ExpiredTokenException): The security token included in "
         "the request is expired",
         Errc::auth},
        {400, R"({"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."})", {},
         "secret 'prod/db': the credentials are not recognised (UnrecognizedClientException): The security token "
         "included in the request is invalid.",
         Errc::auth},
        {400, R"j({"__type":"InvalidSignatureException","message":"Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T124600Z - 5 min.)"})j", {},
         "secret 'prod/db': the signature was rejected (InvalidSignatureException): Signature expired: "
         "20150830T123600Z is now earlier than 20150830T124100Z (20150830T124600Z - 5 min.); check the system "
         "clock: AWS accepts at most 5 minutes of difference",
         Errc::auth},
        {400, R"({"__type":"InvalidSignatureException","message":"The request signature we calculated does not match the signature you provided."})", {},
         "secret 'prod/db': the signature was rejected (InvalidSignatureException): The request signature we "
         "calculated does not match the signature you provided.; the secret access key does not belong to the "
         "access key id",
         Errc::auth},
        {500, R"({"__type":"InternalServiceError","message":"oops"})", {},
         "secret 'prod/db': Secrets Manager failed (InternalServiceError): oops", Errc::unavailable},
        {502, "Bad Gateway", {}, "secret 'prod/db': Secrets Manager answered HTTP 502: Bad Gateway", Errc::unavailable},
        {403, "", {{"X-Amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/"}},
         "secret 'prod/db': access denied (AccessDeniedException)", Errc::auth},
        {400, R"({"__type":"SomethingNewException","message":"line1\nline2"})", {},
         "secret 'prod/db': failed (SomethingNewException): line1 line2", Errc::bad_response},
        {400, R"({"__type":"ValidationException","message":")" + long_text + "\"}", {},
         "secret 'prod/db': failed (ValidationException): " + std::string(300, 'x') + "...", Errc::bad_response},
    };
    for (const auto& c : cases) {
        Fixture f;
        f.http.on("POST", std::string(sm_eu), c.status, c.body, c.headers);
        auto r = f.fetch_one({"prod/db", "", ""});
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().message == c.message);
        BOOST_TEST((r.error().code == c.code), c.message);
    }
}

BOOST_AUTO_TEST_CASE(throttling_is_retried_by_the_client)
{
    Fixture f;
    f.http.on("POST", std::string(sm_eu), 400, R"({"__type":"ThrottlingException"})");
    BOOST_TEST(f.fetch_one({"prod/db", "", ""}).has_error());
    const auto& retry_if = f.http.requests[0].retry_if;
    BOOST_TEST_REQUIRE(static_cast<bool>(retry_if));
    BOOST_TEST(retry_if(respond(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})")));
    BOOST_TEST(retry_if(respond(400, R"({"__type":"com.amazon.coral#RequestTimeoutException"})")));
    BOOST_TEST(retry_if(respond(429, R"({"__type":"TooManyRequestsException"})")));
    BOOST_TEST(!retry_if(respond(400, R"({"__type":"AccessDeniedException"})")));
    BOOST_TEST(!retry_if(respond(400, R"({"__type":"ResourceNotFoundException"})")));
    BOOST_TEST(!retry_if(respond(200, R"({"__type":"ThrottlingException"})")));
}

BOOST_AUTO_TEST_CASE(credentials_are_fetched_once_for_many_secrets)
{
    Fixture f;
    f.env.erase("AWS_ACCESS_KEY_ID");
    f.env.erase("AWS_SECRET_ACCESS_KEY");
    f.env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/task");
    f.http.on("GET", "http://169.254.170.2:80/v2/credentials/task", 200,
              R"({"AccessKeyId":"ASIATASK","SecretAccessKey":"task-secret","Token":"task-token"})");
    FakeSecretsManager sm;
    std::vector<SecretId> ids;
    for (int i = 0; i < 12; ++i) {
        const std::string name = "app/secret-" + std::to_string(i);
        sm.values[name] = "value-" + std::to_string(i);
        ids.push_back({name, "", ""});
    }
    f.http.on("POST", std::string(sm_eu), std::ref(sm));
    auto results = f.resolve(ids);
    for (int i = 0; i < 12; ++i) {
        BOOST_TEST_REQUIRE(results[static_cast<std::size_t>(i)].has_value());
        BOOST_TEST(results[static_cast<std::size_t>(i)]->value.reveal() == "value-" + std::to_string(i));
    }
    BOOST_TEST(f.http.count("GET", "http://169.254.170.2:80/") == 1U);
    BOOST_TEST(f.http.count("POST", std::string(sm_eu)) == 12U);
    for (const auto& r : f.http.requests)
        if (r.method == "POST")
            BOOST_TEST(header(r, "X-Amz-Security-Token") == "task-token");
}

BOOST_AUTO_TEST_CASE(prepare_reports_missing_credentials_and_region)
{
    Fixture f;
    f.env.set("HOME", "/nonexistent/u");
    f.env.erase("AWS_ACCESS_KEY_ID");
    f.env.erase("AWS_SECRET_ACCESS_KEY");
    f.env.set("AWS_EC2_METADATA_DISABLED", "true");
    auto r = f.prepare({{"prod/db", "", ""}});
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               "no AWS credentials: environment: AWS_ACCESS_KEY_ID not set; web identity: AWS_WEB_IDENTITY_TOKEN_FILE "
               "not set; profile 'default': no such profile in /nonexistent/u/.aws/config, "
               "/nonexistent/u/.aws/credentials; ECS: not configured; EC2 IMDS: disabled by AWS_EC2_METADATA_DISABLED");

    Fixture g;
    g.env.erase("AWS_REGION");
    g.env.set("AWS_EC2_METADATA_DISABLED", "true");
    BOOST_TEST(g.prepare({{"prod/db", "", ""}}).error().message ==
               "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in profile 'default'); "
               "EC2 IMDS: disabled by AWS_EC2_METADATA_DISABLED");
    BOOST_TEST(g.http.requests.empty());
}

BOOST_AUTO_TEST_CASE(the_region_can_come_from_imds)
{
    Fixture f;
    f.env.erase("AWS_REGION");
    f.http.on("PUT", std::string(testing::imds) + "/latest/api/token", 200, "T");
    f.http.on("GET", std::string(testing::imds) + "/latest/meta-data/placement/region", 200, "ap-southeast-2");
    FakeSecretsManager sm;
    sm.values["x"] = "y";
    f.http.on("POST", "https://secretsmanager.ap-southeast-2.amazonaws.com:443/", std::ref(sm));
    auto r = f.fetch_one({"x", "", ""});
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    check_signature(f.http.requests.back(), "ap-southeast-2");
}

BOOST_AUTO_TEST_CASE(an_endpoint_override_keeps_the_signing_region)
{
    Fixture f;
    f.env.set("AWS_ENDPOINT_URL", "https://127.0.0.1:9999");
    f.env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:4566");
    FakeSecretsManager sm;
    sm.values["prod/db"] = "local";
    f.http.on("POST", "http://127.0.0.1:4566/", std::ref(sm));
    auto r = f.fetch_one({"prod/db", "", ""});
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().message : ""));
    const https::Request& sent = f.http.requests[0];
    BOOST_TEST(sent.allow_http); // loopback only: the client checks the address
    BOOST_TEST(header(sent, "Authorization").find("/eu-west-1/secretsmanager/aws4_request") != std::string::npos);
    check_signature(sent, "eu-west-1");
    BOOST_TEST(auth::sigv4::host_header(sent.url) == "127.0.0.1:4566");
}

BOOST_AUTO_TEST_CASE(endpoint_table_covers_the_partitions)
{
    EnvMap env;
    const auto host = [&](std::string_view region) {
        auto url = auth::service_endpoint(env, "SECRETS_MANAGER", "secretsmanager", region);
        return url ? url->origin() : "error: " + url.error().message;
    };
    BOOST_TEST(host("us-east-1") == "https://secretsmanager.us-east-1.amazonaws.com");
    BOOST_TEST(host("eu-central-2") == "https://secretsmanager.eu-central-2.amazonaws.com");
    BOOST_TEST(host("il-central-1") == "https://secretsmanager.il-central-1.amazonaws.com");
    BOOST_TEST(host("cn-northwest-1") == "https://secretsmanager.cn-northwest-1.amazonaws.com.cn");
    BOOST_TEST(host("us-gov-west-1") == "https://secretsmanager.us-gov-west-1.amazonaws.com");
    BOOST_TEST(host("us-iso-east-1") == "https://secretsmanager.us-iso-east-1.c2s.ic.gov");
    BOOST_TEST(host("us-isob-east-1") == "https://secretsmanager.us-isob-east-1.sc2s.sgov.gov");
    BOOST_TEST(host("eu-isoe-west-1") == "https://secretsmanager.eu-isoe-west-1.cloud.adc-e.uk");
    BOOST_TEST(host("us-isof-south-1") == "https://secretsmanager.us-isof-south-1.csp.hci.ic.gov");
    BOOST_TEST(host("eusc-de-east-1") == "https://secretsmanager.eusc-de-east-1.amazonaws.eu");
    BOOST_TEST(host("xx-future-9") == "https://secretsmanager.xx-future-9.amazonaws.com");
    BOOST_TEST(host("evil.com/x") == "error: invalid AWS region 'evil.com/x'");
    BOOST_TEST(host("") == "error: invalid AWS region ''");
    BOOST_TEST(auth::partition_for_region("us-gov-east-1").name == "aws-us-gov");
    BOOST_TEST(auth::partition_for_region("cn-north-1").name == "aws-cn");

    env.set("AWS_USE_FIPS_ENDPOINT", "true");
    BOOST_TEST(host("us-east-1") == "https://secretsmanager-fips.us-east-1.amazonaws.com");
    BOOST_TEST(host("us-gov-west-1") == "https://secretsmanager-fips.us-gov-west-1.amazonaws.com");
    env.set("AWS_ENDPOINT_URL", "https://localhost:8443");
    BOOST_TEST(host("us-east-1") == "error: AWS_USE_FIPS_ENDPOINT cannot be combined with AWS_ENDPOINT_URL "
                                    "(the custom endpoint is used as is)");
    env.erase("AWS_USE_FIPS_ENDPOINT");
    BOOST_TEST(host("us-east-1") == "https://localhost:8443");
    env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://sm.local");
    BOOST_TEST(host("us-east-1") == "https://sm.local");
    env.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    BOOST_TEST(host("us-east-1") == "https://secretsmanager.us-east-1.amazonaws.com");
    env.erase("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    env.set("AWS_ENDPOINT_URL_SECRETS_MANAGER", "ftp://x");
    BOOST_TEST(host("us-east-1") ==
               "error: AWS_ENDPOINT_URL_SECRETS_MANAGER: invalid URL 'ftp://x': the scheme must be https");
}

// --- --aws-batch ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(batch_mode_groups_by_twenty_and_maps_per_secret_errors)
{
    Fixture f;
    f.batch = true;
    FakeSecretsManager sm;
    std::vector<SecretId> ids;
    for (int i = 0; i < 45; ++i) {
        const std::string name = "batch/s" + std::to_string(i);
        if (i != 7)
            sm.values[name] = "v" + std::to_string(i);
        ids.push_back({name, "", ""});
    }
    sm.values["batch/old"] = "old";
    ids.push_back({"batch/old", "", "AWSPREVIOUS"}); // not batchable: GetSecretValue
    f.http.on("POST", std::string(sm_eu), std::ref(sm));
    auto results = f.resolve(ids);

    BOOST_TEST_REQUIRE(sm.batches.size() == 3U);
    BOOST_TEST(sm.batches[0].size() == 20U);
    BOOST_TEST(sm.batches[1].size() == 20U);
    BOOST_TEST(sm.batches[2].size() == 5U);
    BOOST_TEST(f.http.requests.size() == 4U);
    BOOST_TEST(f.http.requests[0].body.rfind(R"({"SecretIdList":["batch/s0","batch/s1",)", 0) == 0U);
    BOOST_TEST(header(f.http.requests[0], "X-Amz-Target") == "secretsmanager.BatchGetSecretValue");
    check_signature(f.http.requests[0], "eu-west-1");
    BOOST_TEST(header(f.http.requests[3], "X-Amz-Target") == "secretsmanager.GetSecretValue");
    BOOST_TEST(f.http.requests[3].body == R"({"SecretId":"batch/old","VersionStage":"AWSPREVIOUS"})");

    for (int i = 0; i < 45; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        if (i == 7) {
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST(r.error().message == "secret 'batch/s7': not found (ResourceNotFoundException): Secrets "
                                            "Manager can't find the specified secret.");
            BOOST_TEST((r.error().code == Errc::not_found));
        } else {
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(r->value.reveal() == "v" + std::to_string(i));
        }
    }
    BOOST_TEST(results[45]->value.reveal() == "old");
}

BOOST_AUTO_TEST_CASE(batch_mode_follows_next_token_and_partial_arns)
{
    Fixture f;
    f.batch = true;
    const std::string partial = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/a";
    int calls = 0;
    f.http.on("POST", std::string(sm_eu), [&](const https::Request& request) -> Result<https::Response> {
        ++calls;
        const auto body = json::parse(request.body).as_object();
        if (!body.contains("NextToken"))
            return respond(200, R"({"SecretValues":[],"NextToken":"page-2"})");
        BOOST_TEST(body.at("NextToken").as_string() == "page-2");
        return respond(200, R"({"SecretValues":[)" + value_json("app/a", "A") + "," + value_json("app/b", "B") +
                                R"(],"Errors":[]})");
    });
    auto results = f.resolve({{partial, "", ""}, {"app/b", "", ""}});
    BOOST_TEST(calls == 2);
    BOOST_TEST_REQUIRE(results[0].has_value(), (results[0].has_error() ? results[0].error().message : ""));
    BOOST_TEST(results[0]->value.reveal() == "A");
    BOOST_TEST(results[1]->value.reveal() == "B");
}

BOOST_AUTO_TEST_CASE(batch_mode_falls_back_when_denied)
{
    Fixture f;
    f.batch = true;
    std::ostringstream captured;
    log::set_sink(&captured);
    const auto level = log::level();
    log::set_level(log::Level::info);
    FakeSecretsManager sm;
    sm.values["a"] = "A";
    sm.values["b"] = "B";
    f.http.on("POST", std::string(sm_eu), [&](const https::Request& request) -> Result<https::Response> {
        if (header(request, "X-Amz-Target") == "secretsmanager.BatchGetSecretValue")
            return respond(400, R"({"__type":"AccessDeniedException","Message":"not authorized to perform: secretsmanager:BatchGetSecretValue"})");
        return sm(request);
    });
    auto results = f.resolve({{"a", "", ""}, {"b", "", ""}});
    log::set_sink(nullptr);
    log::set_level(level);
    BOOST_TEST_REQUIRE(results[0].has_value());
    BOOST_TEST(results[0]->value.reveal() == "A");
    BOOST_TEST(results[1]->value.reveal() == "B");
    BOOST_TEST(f.http.requests.size() == 3U);
    BOOST_TEST(captured.str() == "secrun: info: aws_secrets: BatchGetSecretValue was refused "
                                 "(AccessDeniedException); fetching each secret with GetSecretValue\n");
}

BOOST_AUTO_TEST_CASE(batch_mode_other_failures_fail_prepare)
{
    Fixture f;
    f.batch = true;
    f.http.on("POST", std::string(sm_eu), 500, R"({"__type":"InternalServiceError","message":"boom"})");
    auto r = f.prepare({{"a", "", ""}});
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "BatchGetSecretValue: Secrets Manager failed (InternalServiceError): boom");
    BOOST_TEST((r.error().code == Errc::unavailable));
}

// --- the rest of the Backend interface ------------------------------------------

BOOST_AUTO_TEST_CASE(check_key_refuses_malformed_arns)
{
    Fixture f;
    Backend& b = f.make();
    BOOST_TEST(b.name() == "aws_secrets");
    BOOST_TEST(!b.check_key("prod/db").has_value());
    BOOST_TEST(!b.check_key("arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf").has_value());
    BOOST_TEST(b.check_key("arn:aws:s3:::bucket").value() ==
               "'arn:aws:s3:::bucket' is not a Secrets Manager secret ARN "
               "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)");
    BOOST_TEST(b.check_key(std::string(2049, 'a')).value() == "secret id is longer than 2048 characters");
    const auto vars = b.credential_variables();
    BOOST_TEST((std::find(vars.begin(), vars.end(), "AWS_SECRET_ACCESS_KEY") != vars.end()));
}

BOOST_AUTO_TEST_CASE(make_backend_knows_aws_secrets)
{
    Fixture f;
    Context context{f.env, f.http, {}, false, false, testing::fixed_now};
    auto backend = make_backend("aws_secrets", context);
    BOOST_TEST_REQUIRE(backend.has_value());
    BOOST_TEST((*backend)->name() == "aws_secrets");
}

BOOST_AUTO_TEST_CASE(fetch_needs_prepare)
{
    Fixture f;
    Backend& b = f.make();
    auto r = testing::run(b.fetch({"x", "", ""}));
    BOOST_TEST(r.error().message == "aws_secrets: fetch() before a successful prepare()");
}

BOOST_AUTO_TEST_SUITE_END()
