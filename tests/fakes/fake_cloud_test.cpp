// Self-test of secrun_fake_cloud: the generated certificates (OpenSSL API),
// then the running server through curl, an independent real client, used
// exactly as Doppler's API reference shows.
#define BOOST_TEST_MODULE secrun_fake_cloud
#include "fake_cloud_process.hpp"
#include "fake_cloud_rate_limit.hpp"
#include "test_ca.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
// Boost.Process v2 with std::filesystem, as secrun_core uses it (one
// configuration per binary). In 1.81 its config header needs these first.
#include <boost/optional.hpp>
#include <boost/type_traits.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>

using secrun::testing::FakeCloudOptions;
using secrun::testing::FakeCloudProcess;
using secrun::testing::TempDir;
namespace fakes = secrun::fakes;
namespace bp = boost::process::v2;
namespace json = boost::json;

namespace
{

std::string read_text(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// ---- certificates -------------------------------------------------------

struct X509Free {
    void operator()(X509* p) const noexcept { X509_free(p); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert load_cert(const std::filesystem::path& path)
{
    FILE* f = std::fopen(path.c_str(), "r");
    BOOST_TEST_REQUIRE(f != nullptr, "cannot open " << path);
    Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    BOOST_TEST_REQUIRE(cert != nullptr, "no certificate in " << path);
    return cert;
}

// X509_verify_cert's error code for `leaf` against the CA alone, in strict mode.
int verify(const std::filesystem::path& dir, const std::string& leaf_name)
{
    Cert ca = load_cert(dir / "ca.pem");
    Cert leaf = load_cert(dir / leaf_name);
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                  X509_STORE_free);
    X509_STORE_add_cert(store.get(), ca.get());
    X509_STORE_set_flags(store.get(), X509_V_FLAG_X509_STRICT);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                        X509_STORE_CTX_free);
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
    X509_verify_cert(ctx.get());
    return X509_STORE_CTX_get_error(ctx.get());
}

// ---- curl ---------------------------------------------------------------

bool curl_available()
{
    return std::string_view(SECRUN_CURL).size() > 0 && ::access(SECRUN_CURL, X_OK) == 0;
}

struct CurlResult {
    int exit_code = -1;
    unsigned status = 0; // from --write-out
    std::string body;
    std::string error;
};

// Runs curl with `args` after options that keep it hermetic (-q: no .curlrc;
// no proxy from the environment), --silent --show-error, and a --write-out
// that appends the status on its own line.
CurlResult curl(const std::vector<std::string>& args, bool use_proxy_env_off = true)
{
    TempDir dir("curl");
    std::vector<std::string> argv{
        "-q", "--silent", "--show-error", "--write-out", "\n%{http_code}", "--max-time", "20"};
    if (use_proxy_env_off) {
        argv.emplace_back("--noproxy");
        argv.emplace_back("*");
    }
    argv.insert(argv.end(), args.begin(), args.end());
    const auto out_path = dir / "out";
    const auto err_path = dir / "err";
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    boost::asio::io_context ioc;
    bp::process process(ioc, SECRUN_CURL, argv, bp::process_stdio{in, out, err});
    ::close(in);
    ::close(out);
    ::close(err);
    CurlResult r;
    r.exit_code = process.wait();
    std::string text = read_text(out_path);
    const auto nl = text.rfind('\n');
    if (nl != std::string::npos) {
        r.status = static_cast<unsigned>(std::stoul(text.substr(nl + 1)));
        text.resize(nl);
    }
    r.body = std::move(text);
    r.error = read_text(err_path);
    return r;
}

// The Doppler scenario most cases use.
const std::string doppler_scenario = R"({
  "vendors": {"doppler": {
    "projects": {
      "muse": {
        "prd": {"secrets": {"DB_URL": "postgres://db/muse", "API_KEY": "k-123"}},
        "dev_alice": {"secrets": {"DB_URL": "postgres://localhost/dev"}}
      },
      "other": {"prd": {"secrets": {"X": "1"}}}
    },
    "tokens": {
      "dp.st.prd.ServiceToken123": {"project": "muse", "config": "prd"},
      "dp.pt.PersonalToken456": {},
      "dp.pt.OtherOnly789": {"projects": ["other"]}
    }
  }}
})";

std::string download_url(const FakeCloudProcess& cloud, std::string_view query = "format=json")
{
    return cloud.https_url() + "/v3/configs/config/secrets/download?" + std::string(query);
}

// The request as Doppler's API reference writes it, pointed at the fake.
CurlResult doppler_download(const FakeCloudProcess& cloud, const std::string& token,
                            std::string_view query = "format=json",
                            std::vector<std::string> extra = {})
{
    std::vector<std::string> args{
        "--cacert", cloud.ca_file().string(),        "--request", "GET",
        "--url",    download_url(cloud, query),      "--header",  "accept: application/json",
        "--header", "authorization: Bearer " + token};
    args.insert(args.end(), extra.begin(), extra.end());
    return curl(args);
}

const boost::unit_test::precondition::predicate_t has_curl =
    [](boost::unit_test::test_unit_id) -> boost::test_tools::assertion_result {
    boost::test_tools::assertion_result r(curl_available());
    r.message() << "curl not found (SECRUN_CURL=\"" << SECRUN_CURL << "\"): skipped";
    return r;
};

} // namespace

BOOST_AUTO_TEST_SUITE(test_ca)

BOOST_AUTO_TEST_CASE(generates_every_file_once)
{
    TempDir dir("ca");
    BOOST_TEST_REQUIRE(!fakes::ensure_test_certs(dir.path()).has_value());
    for (const char* name :
         {"ca.pem", "ca-key.pem", "leaf.pem", "leaf-key.pem", "wrong-host.pem",
          "wrong-host-key.pem", "expired.pem", "expired-key.pem", "self-signed.pem",
          "self-signed-key.pem", "client.pem", "client-cert.pem", "client-key.pem"})
        BOOST_TEST(std::filesystem::exists(dir / name), name);
    const std::string ca = read_text(dir / "ca.pem");
    BOOST_TEST_REQUIRE(!fakes::ensure_test_certs(dir.path()).has_value());
    BOOST_TEST(read_text(dir / "ca.pem") == ca); // not regenerated
    const auto perms = std::filesystem::status(dir / "leaf-key.pem").permissions();
    BOOST_TEST(((perms & std::filesystem::perms::group_all) == std::filesystem::perms::none));
    BOOST_TEST(((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none));
}

BOOST_AUTO_TEST_CASE(leaves_verify_as_intended)
{
    TempDir dir("ca");
    BOOST_TEST_REQUIRE(!fakes::ensure_test_certs(dir.path()).has_value());
    BOOST_TEST(verify(dir.path(), "leaf.pem") == X509_V_OK);
    BOOST_TEST(verify(dir.path(), "wrong-host.pem") == X509_V_OK); // only its name is wrong
    BOOST_TEST(verify(dir.path(), "client-cert.pem") == X509_V_OK);
    BOOST_TEST(verify(dir.path(), "expired.pem") == X509_V_ERR_CERT_HAS_EXPIRED);
    BOOST_TEST(verify(dir.path(), "self-signed.pem") == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);

    Cert leaf = load_cert(dir / "leaf.pem");
    BOOST_TEST(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0) == 1);
    BOOST_TEST(X509_check_ip_asc(leaf.get(), "::1", 0) == 1);
    BOOST_TEST(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr) == 1);
    BOOST_TEST(X509_check_host(leaf.get(), "wrong.example", 0, 0, nullptr) == 0);
    BOOST_TEST(X509_check_host(leaf.get(), "api.fake-cloud.test", 0, 0, nullptr) == 1);
    BOOST_TEST(X509_check_host(leaf.get(), "fake-cloud.test", 0, 0, nullptr) == 0);
    Cert wrong = load_cert(dir / "wrong-host.pem");
    BOOST_TEST(X509_check_host(wrong.get(), "wrong.example", 0, 0, nullptr) == 1);
    BOOST_TEST(X509_check_ip_asc(wrong.get(), "127.0.0.1", 0) == 0);
}

BOOST_AUTO_TEST_CASE(client_pem_holds_an_rsa_certificate_and_its_key)
{
    TempDir dir("ca");
    BOOST_TEST_REQUIRE(!fakes::ensure_test_certs(dir.path()).has_value());
    FILE* f = std::fopen((dir / "client.pem").c_str(), "r");
    BOOST_TEST_REQUIRE(f != nullptr);
    Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
    EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    BOOST_TEST_REQUIRE(cert != nullptr);
    BOOST_TEST_REQUIRE(key != nullptr);
    BOOST_TEST(EVP_PKEY_is_a(key, "RSA") == 1);
    BOOST_TEST(EVP_PKEY_get_bits(key) == 2048);
    BOOST_TEST(X509_check_private_key(cert.get(), key) == 1);
    EVP_PKEY_free(key);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fake_cloud_server)

BOOST_AUTO_TEST_CASE(reports_ports_and_stops_cleanly_on_sigterm)
{
    FakeCloudProcess cloud;
    BOOST_TEST(cloud.https_port() != 0);
    BOOST_TEST(cloud.http_port() != 0);
    BOOST_TEST(cloud.proxy_port() != 0);
    BOOST_TEST(cloud.https_port() != cloud.http_port());
    BOOST_TEST(std::filesystem::exists(cloud.ca_file()));
    BOOST_TEST(cloud.counter("requests_total") == 0u);
    BOOST_TEST(cloud.stop() == 0);
}

BOOST_AUTO_TEST_CASE(refuses_a_scenario_with_an_unknown_key)
{
    try {
        FakeCloudProcess cloud({.scenario = R"({"fautls": []})"});
        BOOST_FAIL("the server started with a misspelt key");
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        BOOST_TEST(message.find("exited with status 2 before it was ready") != std::string::npos,
                   message);
        BOOST_TEST(message.find("scenario.json: scenario: unknown key 'fautls'\n") !=
                       std::string::npos,
                   message);
    }
}

BOOST_AUTO_TEST_CASE(refuses_an_unknown_vendor_and_a_bad_doppler_section)
{
    try {
        FakeCloudProcess cloud({.scenario = R"({"vendors": {"dopler": {}}})"});
        BOOST_FAIL("the server started with an unknown vendor");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(
            std::string(e.what()).find("fake_cloud: scenario.vendors: unknown vendor 'dopler'\n") !=
            std::string::npos);
    }
    try {
        FakeCloudProcess cloud(
            {.scenario = R"({"vendors": {"doppler": {"tokens": {"dp.st.x": {}}}}})"});
        BOOST_FAIL("the server accepted a service token without a config");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()).find(
                       "fake_cloud: scenario.vendors.doppler: tokens.dp.st.x: a service token "
                       "needs \"project\" and \"config\" (only)\n") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(refuses_a_bad_aws_section)
{
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"vendors": {"aws": {"secret": {}}}})", "unknown key 'secret'"},
        {R"({"vendors": {"aws": {"account": 1}}})", "account: expected a string"},
        {R"({"vendors": {"aws": {"secrets": {"a": {"strin": "v"}}}}})", "secrets.a: unknown key 'strin'"},
        {R"({"vendors": {"aws": {"secrets": {"a": {"string": "v", "binary": "AA=="}}}}})",
         "secrets.a: needs exactly one of \"string\" and \"binary\""},
        {R"({"vendors": {"aws": {"secrets": {"a": {"binary": "not base64"}}}}})",
         "secrets.a.binary: not standard base64"},
        {R"({"vendors": {"aws": {"ecs": {}}}})", "ecs.issue: expected an object"},
    };
    for (const auto& [scenario, expected] : cases) {
        try {
            FakeCloudProcess cloud({.scenario = scenario});
            BOOST_FAIL("the server accepted " << scenario);
        } catch (const std::runtime_error& e) {
            BOOST_TEST(std::string(e.what()).find("fake_cloud: scenario.vendors.aws: " + expected + "\n") !=
                           std::string::npos,
                       e.what());
        }
    }
}

BOOST_AUTO_TEST_CASE(token_bucket_admits_a_burst_then_refills_at_its_rate)
{
    using namespace std::chrono_literals;
    // 256/s and 125 ms: exact in binary floating point.
    fakes::TokenBucket bucket(256, 50);
    const auto t0 = fakes::TokenBucket::Clock::time_point{} + 1h;
    unsigned admitted = 0;
    for (int i = 0; i < 100; ++i)
        admitted += bucket.admit(t0) ? 1 : 0;
    BOOST_TEST(admitted == 50u); // the burst, then nothing at the same instant
    admitted = 0;
    for (int i = 0; i < 100; ++i)
        admitted += bucket.admit(t0 + 125ms) ? 1 : 0;
    BOOST_TEST(admitted == 32u); // 256/s for 125 ms
    BOOST_TEST(!bucket.admit(t0 + 50ms)); // time going backwards adds nothing
    BOOST_TEST(bucket.admit(t0 + 130ms)); // 1.28 tokens since 125 ms
    BOOST_TEST(!bucket.admit(t0 + 130ms));
    admitted = 0;
    for (int i = 0; i < 100; ++i)
        admitted += bucket.admit(t0 + 1h) ? 1 : 0;
    BOOST_TEST(admitted == 50u); // a long pause fills the bucket only up to the burst
}


BOOST_AUTO_TEST_CASE(refuses_a_bad_rate_limit)
{
    for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
             {R"({"rate_limit": {"rps": 10, "burst": 5}})",
              "scenario.rate_limit: \"rps\", \"burst\" and \"vendor\" are required"},
             {R"({"rate_limit": {"rps": 0, "burst": 5, "vendor": "aws"}})",
              "scenario.rate_limit.rps: out of range"},
             {R"({"rate_limit": {"rps": 10, "burst": 5, "vendor": "gcp"}})",
              "scenario.rate_limit.vendor: expected"},
             {R"({"rate_limit": {"rps": 10, "burst": 5, "vendor": "aws", "bursts": 1}})",
              "scenario.rate_limit: unknown key 'bursts'"}}) {
        try {
            FakeCloudProcess cloud({.scenario = text});
            BOOST_ERROR("the server started with " << text);
        } catch (const std::runtime_error& e) {
            BOOST_TEST(std::string(e.what()).find(expected) != std::string::npos, e.what());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(doppler_fake_via_curl, *boost::unit_test::precondition(has_curl))

BOOST_AUTO_TEST_CASE(service_token_downloads_the_config_with_metadata_keys)
{
    FakeCloudProcess cloud({.scenario = doppler_scenario});
    const auto r = doppler_download(cloud, "dp.st.prd.ServiceToken123");
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.error);
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.body == R"({"API_KEY":"k-123","DB_URL":"postgres://db/muse",)"
                         R"("DOPPLER_CONFIG":"prd","DOPPLER_ENVIRONMENT":"prd",)"
                         R"("DOPPLER_PROJECT":"muse"})");
    BOOST_TEST(cloud.requests("GET", "/v3/configs/config/secrets/download") == 1u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);
}

BOOST_AUTO_TEST_CASE(personal_token_needs_project_and_config)
{
    FakeCloudProcess cloud({.scenario = doppler_scenario});
    const auto ok = doppler_download(cloud, "dp.pt.PersonalToken456",
                                     "project=muse&config=dev_alice&format=json");
    BOOST_TEST(ok.status == 200u);
    BOOST_TEST(ok.body == R"({"DB_URL":"postgres://localhost/dev","DOPPLER_CONFIG":"dev_alice",)"
                          R"("DOPPLER_ENVIRONMENT":"dev","DOPPLER_PROJECT":"muse"})");

    const auto no_project = doppler_download(cloud, "dp.pt.PersonalToken456", "format=json");
    BOOST_TEST(no_project.status == 400u);
    BOOST_TEST(no_project.body == R"({"messages":["You must specify a project"],"success":false})");
    const auto no_config =
        doppler_download(cloud, "dp.pt.PersonalToken456", "project=muse&format=json");
    BOOST_TEST(no_config.status == 400u);
    BOOST_TEST(no_config.body == R"({"messages":["You must specify a config"],"success":false})");
    const auto unknown =
        doppler_download(cloud, "dp.pt.PersonalToken456", "project=muse&config=stg&format=json");
    BOOST_TEST(unknown.status == 404u);
    BOOST_TEST(unknown.body ==
               R"({"messages":["Could not find requested config 'stg'"],"success":false})");
    const auto forbidden =
        doppler_download(cloud, "dp.pt.OtherOnly789", "project=muse&config=prd&format=json");
    BOOST_TEST(forbidden.status == 403u);
    BOOST_TEST(forbidden.body ==
               R"({"messages":["You do not have access to project 'muse'"],"success":false})");
}

BOOST_AUTO_TEST_CASE(rejects_missing_and_unknown_tokens_with_401)
{
    FakeCloudProcess cloud({.scenario = doppler_scenario});
    const auto bad = doppler_download(cloud, "dp.st.prd.Wrong");
    BOOST_TEST(bad.status == 401u);
    BOOST_TEST(bad.body == R"({"messages":["Invalid Auth token"],"success":false})");
    const auto none = curl({"--cacert", cloud.ca_file().string(), "--url", download_url(cloud)});
    BOOST_TEST(none.status == 401u);
    BOOST_TEST(none.body == R"({"messages":["Invalid Auth token"],"success":false})");
    BOOST_TEST(cloud.counter("vendor.doppler.auth_failures") == 2u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 0u);
}

BOOST_AUTO_TEST_CASE(accepts_basic_auth_with_the_token_as_user_name)
{
    FakeCloudProcess cloud({.scenario = doppler_scenario});
    const auto r = curl({"--cacert", cloud.ca_file().string(), "--user",
                         "dp.st.prd.ServiceToken123:", "--url", download_url(cloud)});
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.body.find(R"("DOPPLER_PROJECT":"muse")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(service_token_cannot_read_another_config)
{
    FakeCloudProcess cloud({.scenario = doppler_scenario});
    const auto r = doppler_download(cloud, "dp.st.prd.ServiceToken123",
                                    "project=muse&config=dev_alice&format=json");
    BOOST_TEST(r.status == 403u);
    BOOST_TEST(r.body == R"({"messages":["This token does not have access to requested config"],)"
                         R"("success":false})");
}

BOOST_AUTO_TEST_CASE(answers_304_to_a_matching_etag_and_renders_env_format)
{
    FakeCloudProcess cloud({.scenario = doppler_scenario});
    const auto first =
        doppler_download(cloud, "dp.st.prd.ServiceToken123", "format=json", {"--dump-header", "-"});
    std::string lowered = first.body;
    for (char& c : lowered)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto etag_at = lowered.find("etag: \"");
    BOOST_TEST_REQUIRE(etag_at != std::string::npos, first.body);
    const auto etag_end = first.body.find('"', etag_at + 7);
    const std::string etag = first.body.substr(etag_at + 6, etag_end - etag_at - 5);
    const auto second = doppler_download(cloud, "dp.st.prd.ServiceToken123", "format=json",
                                         {"--header", "if-none-match: " + etag});
    BOOST_TEST(second.status == 304u);
    BOOST_TEST(second.body.empty());
    BOOST_TEST(cloud.counter("vendor.doppler.not_modified") == 1u);

    const auto env = doppler_download(cloud, "dp.st.prd.ServiceToken123", "format=env");
    BOOST_TEST(env.status == 200u);
    BOOST_TEST(env.body == "API_KEY=\"k-123\"\nDB_URL=\"postgres://db/muse\"\n"
                           "DOPPLER_CONFIG=\"prd\"\nDOPPLER_ENVIRONMENT=\"prd\"\n"
                           "DOPPLER_PROJECT=\"muse\"\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(faults_and_transport_via_curl, *boost::unit_test::precondition(has_curl))

BOOST_AUTO_TEST_CASE(status_fault_applies_to_the_next_request_only)
{
    FakeCloudProcess cloud({.scenario = R"({
      "faults": [{"method": "GET", "path": "/v3/configs/config/secrets/download", "count": 1,
                  "action": "status", "status": 500,
                  "body": {"messages": ["Internal error"], "success": false}}],
      "vendors": {"doppler": {"projects": {"muse": {"prd": {"secrets": {"A": "1"}}}},
                              "tokens": {"dp.st.prd.T": {"project": "muse", "config": "prd"}}}}
    })"});
    const auto first = doppler_download(cloud, "dp.st.prd.T");
    BOOST_TEST(first.status == 500u);
    BOOST_TEST(first.body == R"({"messages":["Internal error"],"success":false})");
    const auto second = doppler_download(cloud, "dp.st.prd.T");
    BOOST_TEST(second.status == 200u);
    BOOST_TEST(cloud.requests("GET", "/v3/configs/config/secrets/download") == 2u);
    BOOST_TEST(cloud.counter("faults_applied") == 1u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 1u);
}

BOOST_AUTO_TEST_CASE(sends_429_with_retry_after_when_told)
{
    FakeCloudProcess cloud({.scenario = R"({"faults": [{"action": "status", "status": 429,
        "headers": {"Retry-After": "7"}, "body": "slow down"}]})"});
    const auto r = curl({"--cacert", cloud.ca_file().string(), "--include", "--url",
                         cloud.https_url() + "/anything"});
    BOOST_TEST(r.status == 429u);
    BOOST_TEST(r.body.find("Retry-After: 7\r\n") != std::string::npos, r.body);
    BOOST_TEST(r.body.substr(r.body.size() - 9) == "slow down");
}

BOOST_AUTO_TEST_CASE(rate_limit_answers_as_secrets_manager_throttles)
{
    // 1 token a second, 2 at start: three requests in a row, the third refused.
    FakeCloudProcess cloud({.scenario = R"({"rate_limit": {"rps": 1, "burst": 2, "vendor": "aws"},
                                            "faults": [{"action": "status", "status": 503,
                                                        "count": -1, "path": "/"}]})"});
    const std::vector<std::string> args{"--cacert", cloud.ca_file().string(), "--include",
                                        "--url", cloud.https_url() + "/"};
    BOOST_TEST(curl(args).status == 503u);
    BOOST_TEST(curl(args).status == 503u);
    const auto r = curl(args);
    BOOST_TEST(r.status == 400u);
    BOOST_TEST(r.body.find("Content-Type: application/x-amz-json-1.1\r\n") != std::string::npos,
               r.body);
    BOOST_TEST(r.body.find("x-amzn-ErrorType: ThrottlingException:") != std::string::npos, r.body);
    BOOST_TEST(r.body.find("Retry-After") == std::string::npos, r.body);
    BOOST_TEST(r.body.substr(r.body.find("\r\n\r\n") + 4) ==
               R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
    BOOST_TEST(cloud.counter("throttled") == 1u);
    BOOST_TEST(cloud.counter("faults_applied") == 2u); // a refused request takes no fault
    BOOST_TEST(cloud.counter("requests_total") == 3u);
}

BOOST_AUTO_TEST_CASE(rate_limit_answers_as_key_vault_and_doppler_throttle)
{
    FakeCloudProcess azure({.scenario = R"({"rate_limit": {"rps": 1, "burst": 1,
                                                           "vendor": "azure", "path": "/secrets/"}})"});
    const std::vector<std::string> args{"--cacert", azure.ca_file().string(), "--include", "--url",
                                        azure.https_url() + "/secrets/a"};
    BOOST_TEST(curl(args).status == 404u);
    // Outside "path": never limited.
    BOOST_TEST(curl({"--cacert", azure.ca_file().string(), azure.https_url() + "/other"}).status ==
               404u);
    const auto r = curl(args);
    BOOST_TEST(r.status == 429u);
    BOOST_TEST(r.body.find("Retry-After: 1\r\n") != std::string::npos, r.body);
    BOOST_TEST(r.body.find(R"({"error":{"code":"Throttled","message":"Request was not processed)") !=
                   std::string::npos,
               r.body);
    BOOST_TEST(azure.counter("throttled") == 1u);

    FakeCloudProcess doppler({.scenario = R"({"rate_limit": {"rps": 1, "burst": 1,
                                                             "vendor": "doppler", "retry_after": 3}})"});
    const std::vector<std::string> d{"--cacert", doppler.ca_file().string(), "--include", "--url",
                                     doppler.https_url() + "/v3/x"};
    BOOST_TEST(curl(d).status == 404u);
    const auto t = curl(d);
    BOOST_TEST(t.status == 429u);
    BOOST_TEST(t.body.find("Retry-After: 3\r\n") != std::string::npos, t.body);
    BOOST_TEST(t.body.find(R"("success":false)") != std::string::npos, t.body);
}

BOOST_AUTO_TEST_CASE(keeps_connections_alive_across_requests)
{
    FakeCloudProcess cloud;
    // One curl invocation with three URLs reuses its connection.
    const auto url = cloud.https_url() + "/ping";
    const auto r = curl({"--cacert", cloud.ca_file().string(), url, url, url});
    BOOST_TEST(r.exit_code == 0, r.error);
    BOOST_TEST(cloud.requests("GET", "/ping") == 3u);
    BOOST_TEST(cloud.counter("connections.https") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);
}

BOOST_AUTO_TEST_CASE(closes_after_answering_connection_close)
{
    FakeCloudProcess cloud;
    const auto url = cloud.https_url() + "/bye";
    const auto start = std::chrono::steady_clock::now();
    const auto r =
        curl({"--cacert", cloud.ca_file().string(), "--header", "Connection: close", url, url});
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    BOOST_TEST(r.exit_code == 0, r.error);
    BOOST_TEST(r.status == 404u);
    BOOST_TEST(cloud.requests("GET", "/bye") == 2u);
    BOOST_TEST(cloud.counter("connections.https") == 2u); // one connection per request
    BOOST_TEST(cloud.counter("tls_handshakes") == 2u);
    BOOST_TEST(elapsed.count() < 1500); // the TLS shutdown did not wait for its 2 s bound
}

BOOST_AUTO_TEST_CASE(answers_404_on_the_plain_http_port_without_a_route)
{
    FakeCloudProcess cloud;
    const auto r = curl({cloud.http_url() + "/latest/api/token"});
    BOOST_TEST(r.status == 404u);
    BOOST_TEST(r.body == "fake_cloud: no route for GET /latest/api/token\n");
    BOOST_TEST(cloud.counter("connections.http") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 0u);
}

BOOST_AUTO_TEST_CASE(reset_truncate_stall_oversize_and_invalid_json)
{
    FakeCloudProcess cloud({.scenario = R"({"faults": [
      {"path": "/reset_mid", "action": "reset_mid", "count": -1},
      {"path": "/reset", "action": "reset", "count": -1},
      {"path": "/truncate", "action": "truncate", "count": -1},
      {"path": "/stall", "action": "stall", "count": -1},
      {"path": "/oversize", "action": "oversize", "count": -1},
      {"path": "/invalid", "action": "invalid_json", "count": -1},
      {"path": "/slow", "action": "delay", "delay_ms": 300, "count": -1}
    ]})"});
    const auto get = [&](const std::string& path, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"--cacert", cloud.ca_file().string()};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(cloud.https_url() + path);
        return curl(args);
    };
    const auto reset = get("/reset");
    BOOST_TEST(reset.exit_code == 56, reset.error); // CURLE_RECV_ERROR
    BOOST_TEST(reset.error.find("reset by peer") != std::string::npos, reset.error);
    BOOST_TEST(reset.status == 0u); // nothing came before the RST

    // The status line and headers came (curl saw the 404), then half the
    // body, then the RST.
    const auto reset_mid = get("/reset_mid");
    BOOST_TEST(reset_mid.exit_code == 56, reset_mid.error); // CURLE_RECV_ERROR
    BOOST_TEST(reset_mid.error.find("reset by peer") != std::string::npos, reset_mid.error);
    BOOST_TEST(reset_mid.status == 404u);
    BOOST_TEST(reset_mid.body == "fake_cloud: no route", reset_mid.body);

    const auto truncated = get("/truncate");
    BOOST_TEST(truncated.exit_code == 18, truncated.error); // CURLE_PARTIAL_FILE

    const auto stalled = get("/stall", {"--max-time", "1"});
    BOOST_TEST(stalled.exit_code == 28, stalled.error); // CURLE_OPERATION_TIMEDOUT

    const auto big = get("/oversize");
    BOOST_TEST(big.status == 200u);
    BOOST_TEST(big.body.size() == 2u * 1024 * 1024);
    boost::system::error_code ec;
    (void)json::parse(big.body, ec);
    BOOST_TEST(!ec); // well-formed: only a size limit can reject it

    const auto invalid = get("/invalid");
    BOOST_TEST(invalid.status == 200u);
    (void)json::parse(invalid.body, ec);
    BOOST_TEST(ec.failed());

    const auto start = std::chrono::steady_clock::now();
    const auto slow = get("/slow");
    BOOST_TEST(slow.status == 404u); // delayed, then answered normally
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    BOOST_TEST(elapsed.count() >= 300);
    BOOST_TEST(cloud.counter("faults_applied") == 7u);
}

BOOST_AUTO_TEST_CASE(global_latency_delays_every_answer)
{
    FakeCloudProcess cloud({.scenario = R"({"latency_ms": 200})"});
    const auto start = std::chrono::steady_clock::now();
    const auto r = curl({"--cacert", cloud.ca_file().string(), cloud.https_url() + "/a"});
    BOOST_TEST(r.status == 404u);
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    BOOST_TEST(elapsed.count() >= 200);
}

BOOST_AUTO_TEST_CASE(proxy_requires_credentials_and_counts_tunnels)
{
    FakeCloudProcess cloud({.scenario = R"({"proxy": {"basic_auth": "proxyuser:proxypass"}})"});
    const std::vector<std::string> common{"--cacert", cloud.ca_file().string(), "--proxy",
                                          cloud.proxy_url()};
    auto args = common;
    args.push_back(cloud.https_url() + "/through-proxy");
    const auto denied = curl(args, false);
    BOOST_TEST(denied.exit_code == 56, denied.error); // CONNECT answered 407
    BOOST_TEST(cloud.counter("proxy_auth_failures") == 1u);
    BOOST_TEST(cloud.counter("proxy_tunnels") == 0u);

    args = common;
    args.insert(args.end(),
                {"--proxy-user", "proxyuser:proxypass", cloud.https_url() + "/through-proxy"});
    const auto ok = curl(args, false);
    BOOST_TEST(ok.exit_code == 0, ok.error);
    BOOST_TEST(ok.status == 404u);
    BOOST_TEST(cloud.counter("proxy_tunnels") == 1u);
    BOOST_TEST(cloud.requests("GET", "/through-proxy") == 1u);

    args = common;
    args.insert(args.end(), {"--proxy-user", "proxyuser:proxypass", "https://example.com/"});
    const auto outside = curl(args, false);
    BOOST_TEST(outside.exit_code == 56, outside.error); // CONNECT answered 403
    BOOST_TEST(cloud.counter("proxy_refused") == 1u);
}

BOOST_AUTO_TEST_CASE(proxy_resolves_fake_cloud_test_names_to_the_fake)
{
    FakeCloudProcess cloud;
    BOOST_TEST(cloud.https_proxied_url() ==
               "https://api.fake-cloud.test:" + std::to_string(cloud.https_port()));
    const auto r = curl({"--cacert", cloud.ca_file().string(), "--proxy", cloud.proxy_url(),
                         cloud.https_proxied_url("doppler") + "/named"},
                        false);
    BOOST_TEST(r.exit_code == 0, r.error); // the certificate names *.fake-cloud.test
    BOOST_TEST(r.status == 404u);
    BOOST_TEST(cloud.counter("proxy_tunnels") == 1u);
    BOOST_TEST(cloud.requests("GET", "/named") == 1u);

    // Only names under fake-cloud.test: a look-alike is refused.
    const auto other = curl({"--cacert", cloud.ca_file().string(), "--proxy", cloud.proxy_url(),
                             "https://api.notfake-cloud.test:" +
                                 std::to_string(cloud.https_port()) + "/named"},
                            false);
    BOOST_TEST(other.exit_code == 56, other.error); // CONNECT answered 403
    BOOST_TEST(cloud.counter("proxy_refused") == 1u);
}

BOOST_AUTO_TEST_CASE(curl_rejects_the_wrong_host_expired_and_self_signed_certificates)
{
    for (const char* kind : {"wrong-host", "expired", "self-signed"}) {
        BOOST_TEST_CONTEXT("--cert " << kind)
        {
            FakeCloudProcess cloud({.cert = kind});
            const auto r = curl({"--cacert", cloud.ca_file().string(), cloud.https_url() + "/x"});
            BOOST_TEST(r.exit_code == 60, r.error); // CURLE_PEER_FAILED_VERIFICATION
            BOOST_TEST(cloud.wait_for([](const json::object& s) {
                return s.at("tls_handshakes").to_number<int>() +
                           s.at("tls_handshake_failures").to_number<int>() ==
                       1;
            }));
            // An expired or unknown issuer fails the chain inside the handshake;
            // curl checks the host name after a completed handshake, then hangs up.
            const bool name_only = std::string_view(kind) == "wrong-host";
            BOOST_TEST(cloud.counter("tls_handshake_failures") == (name_only ? 0u : 1u));
            BOOST_TEST(cloud.counter("requests_total") == 0u);
        }
    }
    // The same server certificate directory with the valid leaf: accepted.
    FakeCloudProcess cloud({.cert = "valid"});
    const auto ok = curl({"--cacert", cloud.ca_file().string(), cloud.https_url() + "/x"});
    BOOST_TEST(ok.exit_code == 0, ok.error);
    const auto by_name =
        curl({"--cacert", cloud.ca_file().string(), cloud.https_localhost_url() + "/x"});
    BOOST_TEST(by_name.exit_code == 0, by_name.error);
}

BOOST_AUTO_TEST_SUITE_END()
