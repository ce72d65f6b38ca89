#include "e2e/doppler_fixture.hpp"

#include "https/tls.hpp"
#include "util/strings.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>

namespace secrun::e2e::doppler
{

using testing::FakeCloudProcess;

namespace
{

const std::string doppler_vendor = R"("vendors": {"doppler": {
    "projects": {"muse": {
      "prd": {"secrets": {
        "CH_HOST": "ch-host-s3cr3t-Vq81.internal",
        "DD_API_KEY": "dd-api-s3cr3t-Lm29x",
        "DB_URL": "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse",
        "DB_JSON": "{\"user\":\"user-s3cr3t-Uu5\",\"password\":\"json-s3cr3t-Pw77\"}",
        "TRICKY": "line one\nline \"two\" $HOME 'q' пароль-s3cr3t-Nn4",
        "K01": "v01-s3cr3t", "K02": "v02-s3cr3t", "K03": "v03-s3cr3t", "K04": "v04-s3cr3t",
        "K05": "v05-s3cr3t", "K06": "v06-s3cr3t", "K07": "v07-s3cr3t", "K08": "v08-s3cr3t",
        "K09": "v09-s3cr3t", "K10": "v10-s3cr3t", "K11": "v11-s3cr3t", "K12": "v12-s3cr3t"}},
      "dev_alice": {"secrets": {
        "DB_URL": "postgres://alice:dev-s3cr3t-Ab3@localhost/dev",
        "ALICE_ONLY": "alice-s3cr3t-Xy1"}}
    }},
    "tokens": {
      "dp.st.prd.S3rv1ceTok3nE2eQ8wLp": {"project": "muse", "config": "prd"},
      "dp.pt.P3rs0nalTok3nE2eK4zMn": {}
    }
  }})";

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

std::string scenario(const std::vector<std::string>& faults, std::string_view extra)
{
    std::string text = "{\"faults\": [";
    for (const auto& fault : faults) {
        if (&fault != &faults.front())
            text += ", ";
        text += fault;
    }
    text += "], ";
    if (!extra.empty()) {
        text += extra;
        text += ", ";
    }
    text += doppler_vendor;
    text += "}";
    return text;
}

std::string download_fault(std::string_view action_and_options, int count)
{
    return util::str_cat("{\"path\": \"", download_path, "\", \"count\": ", std::to_string(count),
                         ", ", action_and_options, "}");
}

void expect_nothing_secret(const std::string& text, std::string_view what)
{
    BOOST_TEST_CONTEXT(what << ": " << text)
    {
        BOOST_TEST(!contains(text, "s3cr3t"));
        for (const auto& value : secret_values)
            BOOST_TEST(!contains(text, value));
        BOOST_TEST(!contains(text, "Tok3n"));
        BOOST_TEST(!contains(text, service_token));
        BOOST_TEST(!contains(text, personal_token));
        BOOST_TEST(!contains(text, unknown_token));
        BOOST_TEST(!contains(text, "pr0xy-pa55"));
    }
}

bool system_bundle_skipped()
{
    const auto context = https::tls::make_context(https::tls::TrustSettings::from(EnvMap{}, ""));
    return context && context->bundle_skipped;
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start)
{
    const auto elapsed = std::chrono::steady_clock::now() - start;
    return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed);
}

long retry_delay_ms(const std::string& line)
{
    const auto in = line.find(") in ");
    const auto ms = line.find(" ms: ", in);
    if (in == std::string::npos || ms == std::string::npos)
        return -1;
    const std::string digits = line.substr(in + 5, ms - in - 5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
        return -1;
    return std::stol(digits);
}

bool ends_with(const std::string& text, std::string_view tail)
{
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

std::string whole_config_failure(std::string_view message)
{
    return util::str_cat("secrun: error: doppler: ", message, "\nsecrun: error: not starting '",
                         helper("print_env"),
                         "': the secrets of the doppler backend could not be fetched\n");
}

void DopplerFixture::configure(const FakeCloudProcess& cloud)
{
    env.set("SECRETS_BACKEND", "doppler");
    env.set("DOPPLER_TOKEN", service_token);
    env.set("DOPPLER_PROJECT", "muse");
    env.set("DOPPLER_API_HOST", cloud.https_url());
    env.set("SSL_CERT_FILE", cloud.ca_file().string());
}

std::string DopplerFixture::write(std::string_view name, std::string_view content)
{
    return dir.write(name, content).string();
}

Run DopplerFixture::run(const std::vector<std::string>& args)
{
    std::filesystem::remove(child_file);
    Run r = run_secrun(args, env, dir.path());
    expect_nothing_secret(r.out, "stdout");
    expect_nothing_secret(r.err, "stderr");
    return r;
}

Run DopplerFixture::run_child(std::vector<std::string> args)
{
    args.push_back("--");
    args.push_back(helper("print_env"));
    args.push_back(child_file.string());
    return run(args);
}

std::map<std::string, std::string> DopplerFixture::child_env(const Run& r)
{
    BOOST_TEST_INFO("stderr: " << r.err);
    BOOST_TEST_REQUIRE(r.status == 0);
    BOOST_TEST(r.out == "");
    return parse_env0(read_file(child_file));
}

void DopplerFixture::expect_not_started(const Run& r)
{
    BOOST_TEST(r.status == 125);
    BOOST_TEST(r.out == "");
    BOOST_TEST(!std::filesystem::exists(child_file)); // the command never ran
}

} // namespace secrun::e2e::doppler
