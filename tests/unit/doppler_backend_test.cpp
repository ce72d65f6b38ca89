#include "backends/doppler_backend.hpp"

#include <boost/test/unit_test.hpp>

#include "fakes/fake_https_client.hpp"
#include "fakes/run_awaitable.hpp"

#include <ostream>

using namespace secrun;
using backends::Backend;
using backends::SecretId;

namespace
{

constexpr std::string_view service_token = "dp.st.prd.Zq81ServiceTokenValue";
constexpr std::string_view personal_token = "dp.pt.Hk27PersonalTokenValue";
const std::string download_url =
    "https://api.doppler.com:443/v3/configs/config/secrets/download?format=json";
const std::string download_body =
    R"({"API_KEY":"k-123","DB_URL":"postgres://db/muse","DOPPLER_CONFIG":"prd",)"
    R"("DOPPLER_ENVIRONMENT":"prd","DOPPLER_PROJECT":"muse"})";

struct Fixture {
    EnvMap env;
    testing::FakeHttpsClient http;
    backends::Context context{.env = env,
                              .http = http,
                              .env_files = {},
                              .env_files_explicit = false,
                              .aws_batch = false,
                              .now = {}};

    Result<std::unique_ptr<Backend>> make() { return backends::make_backend("doppler", context); }

    std::unique_ptr<Backend> make_ok()
    {
        auto backend = make();
        BOOST_TEST_REQUIRE(backend.has_value(), backend.error().message);
        return std::move(*backend);
    }

    // A personal token for muse/prd whose download answers `status` and `body`.
    std::unique_ptr<Backend> personal_answering(unsigned status, std::string body)
    {
        env.set("DOPPLER_TOKEN", std::string(personal_token));
        env.set("DOPPLER_PROJECT", "muse");
        env.set("DOPPLER_CONFIG", "prd");
        http.on("GET", download_url + "&project=muse&config=prd", status, std::move(body));
        return make_ok();
    }

    static Result<backends::Fetched> fetch(Backend& backend, std::string key)
    {
        return testing::run(backend.fetch(SecretId{std::move(key), "", ""}));
    }
};

struct StatusCase {
    unsigned status;
    std::string body;
    Errc code;
    std::string message;
};

std::ostream& operator<<(std::ostream& out, const StatusCase& c)
{
    return out << "HTTP " << c.status << " " << c.body;
}

const std::vector<StatusCase> status_cases{
    {401, R"({"messages":["Invalid Auth token"],"success":false})", Errc::auth,
     "Doppler rejected DOPPLER_TOKEN for muse/prd (HTTP 401: Invalid Auth token)"},
    {403, R"({"messages":["You do not have access to project 'muse'"],"success":false})",
     Errc::auth,
     "Doppler denied access to muse/prd (HTTP 403: You do not have access to project 'muse')"},
    {404, R"({"messages":["Could not find requested config 'prd'"],"success":false})", Errc::config,
     "Doppler could not find muse/prd (HTTP 404: Could not find requested config 'prd')"},
    {400, R"({"messages":["You must specify a project","Bad request"],"success":false})",
     Errc::config,
     "Doppler refused the download of muse/prd (HTTP 400: You must specify a project; Bad "
     "request)"},
    {429, "Too Many Requests", Errc::unavailable,
     "Doppler is throttling requests for muse/prd (HTTP 429)"},
    {500, R"({"messages":["Internal error"],"success":false})", Errc::unavailable,
     "Doppler is unavailable for muse/prd (HTTP 500: Internal error)"},
    {503, "<html>Service Unavailable</html>", Errc::unavailable,
     "Doppler is unavailable for muse/prd (HTTP 503)"},
    {302, "", Errc::bad_response, "Doppler answered HTTP 302 for muse/prd"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(doppler_backend)

BOOST_FIXTURE_TEST_CASE(requires_doppler_token, Fixture)
{
    auto missing = make();
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message == "DOPPLER_TOKEN is not set");
    BOOST_TEST((missing.error().code == Errc::config));

    env.set("DOPPLER_TOKEN", "");
    auto empty = make();
    BOOST_TEST_REQUIRE(empty.has_error());
    BOOST_TEST(empty.error().message == "DOPPLER_TOKEN is empty");

    env.set("DOPPLER_TOKEN", "dp.st.prd.abc\r\nX-Injected: 1");
    auto bad = make();
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().message ==
               "DOPPLER_TOKEN contains a space, a control or a non-ASCII character");
}

BOOST_FIXTURE_TEST_CASE(personal_token_requires_project_and_config, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(personal_token));
    auto neither = make();
    BOOST_TEST_REQUIRE(neither.has_error());
    BOOST_TEST(neither.error().message ==
               "DOPPLER_PROJECT and DOPPLER_CONFIG are not set (required unless DOPPLER_TOKEN "
               "is a service token, dp.st.)");
    env.set("DOPPLER_PROJECT", "muse");
    auto no_config = make();
    BOOST_TEST_REQUIRE(no_config.has_error());
    BOOST_TEST(no_config.error().message ==
               "DOPPLER_CONFIG is not set (required unless DOPPLER_TOKEN is a service token, "
               "dp.st.)");
    env.erase("DOPPLER_PROJECT");
    env.set("DOPPLER_CONFIG", "prd");
    auto no_project = make();
    BOOST_TEST_REQUIRE(no_project.has_error());
    BOOST_TEST(no_project.error().message ==
               "DOPPLER_PROJECT is not set (required unless DOPPLER_TOKEN is a service token, "
               "dp.st.)");
}

BOOST_FIXTURE_TEST_CASE(service_token_downloads_without_project_and_config, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(service_token));
    http.on("GET", download_url, 200, download_body);
    auto backend = make_ok();
    BOOST_TEST(backend->name() == "doppler");

    auto db = fetch(*backend, "DB_URL");
    BOOST_TEST_REQUIRE(db.has_value(), db.error().message);
    BOOST_TEST(db->value.reveal() == "postgres://db/muse");
    BOOST_TEST(db->source == "muse/prd"); // named by the download's metadata keys
    BOOST_TEST(db->version.empty());

    BOOST_TEST_REQUIRE(http.requests.size() == 1u);
    const https::Request& sent = http.requests.front();
    BOOST_TEST(sent.method == "GET");
    BOOST_TEST(testing::FakeHttpsClient::full_url(sent.url) == download_url);
    const https::Headers expected{{"Authorization", "Bearer " + std::string(service_token)},
                                  {"Accept", "application/json"}};
    BOOST_TEST((sent.headers == expected));
    BOOST_TEST(!sent.allow_http);
}

BOOST_FIXTURE_TEST_CASE(personal_token_sends_project_and_config_encoded, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(personal_token));
    env.set("DOPPLER_PROJECT", "my proj");
    env.set("DOPPLER_CONFIG", "dev_a&b");
    http.on(
        "GET", download_url + "&project=my%20proj&config=dev_a%26b", 200,
        R"({"A":"1","DOPPLER_PROJECT":"my-proj","DOPPLER_CONFIG":"dev_a","DOPPLER_ENVIRONMENT":"dev"})");
    auto backend = make_ok();
    auto a = fetch(*backend, "A");
    BOOST_TEST_REQUIRE(a.has_value(), a.error().message);
    BOOST_TEST(a->value.reveal() == "1");
    BOOST_TEST(a->source == "my-proj/dev_a");
}

BOOST_FIXTURE_TEST_CASE(service_token_passes_project_and_config_when_set, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(service_token));
    env.set("DOPPLER_PROJECT", "muse");
    env.set("DOPPLER_CONFIG", "prd");
    http.on("GET", download_url + "&project=muse&config=prd", 200, download_body);
    auto backend = make_ok();
    BOOST_TEST(fetch(*backend, "API_KEY").has_value());
}

BOOST_FIXTURE_TEST_CASE(honours_doppler_api_host, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(service_token));
    env.set("DOPPLER_API_HOST", "https://127.0.0.1:8443/base/");
    http.on("GET", "https://127.0.0.1:8443/base/v3/configs/config/secrets/download?format=json",
            200, download_body);
    auto backend = make_ok();
    BOOST_TEST(fetch(*backend, "API_KEY").has_value());

    env.set("DOPPLER_API_HOST", "http://127.0.0.1:8080");
    auto plain = make();
    BOOST_TEST_REQUIRE(plain.has_error());
    BOOST_TEST(plain.error().message == "DOPPLER_API_HOST: 'http://127.0.0.1:8080' is not https");

    env.set("DOPPLER_API_HOST", "api.doppler.com");
    auto no_scheme = make();
    BOOST_TEST_REQUIRE(no_scheme.has_error());
    BOOST_TEST(no_scheme.error().message ==
               "DOPPLER_API_HOST: invalid URL 'api.doppler.com': expected https://host");

    env.set("DOPPLER_API_HOST", "https://h/?x=1");
    auto query = make();
    BOOST_TEST_REQUIRE(query.has_error());
    BOOST_TEST(query.error().message == "DOPPLER_API_HOST: 'https://h/?x=1' must not have a query");
}

BOOST_FIXTURE_TEST_CASE(downloads_once_for_every_fetch, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(service_token));
    http.on("GET", download_url, 200, download_body);
    auto backend = make_ok();
    const Result<void> prepared =
        testing::run(backend->prepare({SecretId{"API_KEY", "", ""}, SecretId{"DB_URL", "", ""}}));
    BOOST_TEST_REQUIRE(prepared.has_value());
    BOOST_TEST(fetch(*backend, "API_KEY")->value.reveal() == "k-123");
    BOOST_TEST(fetch(*backend, "DB_URL")->value.reveal() == "postgres://db/muse");
    BOOST_TEST(fetch(*backend, "NOPE").has_error());
    BOOST_TEST(http.count("GET", download_url) == 1u);
}

BOOST_FIXTURE_TEST_CASE(fetch_all_excludes_doppler_metadata_keys, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(service_token));
    http.on("GET", download_url, 200, download_body);
    auto backend = make_ok();
    auto all = testing::run(backend->fetch_all());
    BOOST_TEST_REQUIRE(all.has_value(), all.error().message);
    std::vector<std::string> names;
    for (const auto& s : *all) {
        names.push_back(s.name);
        BOOST_TEST(s.secret.source == "muse/prd");
    }
    BOOST_TEST(names == (std::vector<std::string>{"API_KEY", "DB_URL"}));
    BOOST_TEST((*all)[0].secret.value.reveal() == "k-123");
}

BOOST_FIXTURE_TEST_CASE(missing_key_is_not_found_naming_project_and_config, Fixture)
{
    auto backend = personal_answering(200, download_body);
    auto missing = fetch(*backend, "NOPE");
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST((missing.error().code == Errc::not_found));
    BOOST_TEST(missing.error().message == "no secret 'NOPE' in Doppler muse/prd");
}

BOOST_FIXTURE_TEST_CASE(service_token_without_metadata_names_the_token_config, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(service_token));
    http.on("GET", download_url, 200, R"({"A":"1"})");
    auto backend = make_ok();
    auto missing = fetch(*backend, "B");
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST(missing.error().message == "no secret 'B' in Doppler the service token's config");
}

BOOST_FIXTURE_TEST_CASE(refuses_versions_and_stages, Fixture)
{
    auto backend = personal_answering(200, download_body);
    auto versioned = testing::run(backend->fetch(SecretId{"API_KEY", "3", ""}));
    BOOST_TEST_REQUIRE(versioned.has_error());
    BOOST_TEST(versioned.error().message ==
               "Doppler secrets have no versions or stages ('API_KEY')");
    BOOST_TEST(http.requests.empty());
}

// A loop rather than BOOST_DATA_TEST_CASE: with -O2, GCC 12 reports a false
// -Wrestrict inside Boost.Test's generated data-case names.
BOOST_AUTO_TEST_CASE(maps_error_statuses)
{
    for (const StatusCase& c : status_cases) {
        BOOST_TEST_CONTEXT(c)
        {
            Fixture f;
            auto backend = f.personal_answering(c.status, c.body);
            auto r = Fixture::fetch(*backend, "API_KEY");
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST((r.error().code == c.code));
            BOOST_TEST(r.error().message == c.message);
            // prepare() reports the same error, and the backend does not ask again.
            const Result<void> prepared = testing::run(backend->prepare({}));
            BOOST_TEST_REQUIRE(prepared.has_error());
            BOOST_TEST(prepared.error().message == c.message);
            BOOST_TEST(f.http.requests.size() == 1u);
        }
    }
}

BOOST_FIXTURE_TEST_CASE(rejects_bodies_that_are_not_a_json_object_of_strings, Fixture)
{
    const std::pair<std::string, std::string> cases[] = {
        {R"({"messages": ["cut off)",
         "Doppler returned invalid JSON for muse/prd (incomplete JSON)"},
        {R"({"A":"1"} trailing)", "Doppler returned invalid JSON for muse/prd (extra data)"},
        {R"(["A","B"])", "Doppler returned JSON that is not an object for muse/prd"},
        {R"({"A":"1","PORT":5432})",
         "Doppler returned a value that is not a string for 'PORT' in muse/prd"},
    };
    for (const auto& [body, message] : cases) {
        Fixture f;
        auto backend = f.personal_answering(200, body);
        auto r = fetch(*backend, "A");
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == Errc::bad_response));
        BOOST_TEST(r.error().message == message);
    }
}

BOOST_FIXTURE_TEST_CASE(passes_transport_errors_through_unchanged, Fixture)
{
    env.set("DOPPLER_TOKEN", std::string(service_token));
    http.on("GET", "https://api.doppler.com:443/", [](const https::Request&) {
        return Result<https::Response>(
            Error(Errc::network, "connect to api.doppler.com:443: Connection refused"));
    });
    auto backend = make_ok();
    auto r = fetch(*backend, "A");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == Errc::network));
    // The caller adds "doppler: " (or the variable and reference): a
    // "Doppler: " here would name the backend twice.
    BOOST_TEST(r.error().message == "connect to api.doppler.com:443: Connection refused");
    BOOST_TEST(r.error().transient());
}

BOOST_FIXTURE_TEST_CASE(token_never_appears_in_a_message, Fixture)
{
    std::vector<std::string> messages;
    for (const StatusCase& c : status_cases) {
        Fixture f;
        auto backend = f.personal_answering(c.status, c.body);
        messages.push_back(fetch(*backend, "API_KEY").error().message);
    }
    {
        // A server that echoes the token back in its error text.
        Fixture f;
        auto backend = f.personal_answering(
            401, R"({"messages":["Invalid Auth token dp.pt.Hk27PersonalTokenValue"]})");
        const auto message = fetch(*backend, "API_KEY").error().message;
        BOOST_TEST(message == "Doppler rejected DOPPLER_TOKEN for muse/prd (HTTP 401: Invalid Auth "
                              "token [token])");
        messages.push_back(message);
    }
    {
        Fixture f;
        auto backend = f.personal_answering(200, download_body);
        messages.push_back(fetch(*backend, "NOPE").error().message);
    }
    {
        Fixture f;
        f.env.set("DOPPLER_TOKEN", std::string(personal_token) + " ");
        messages.push_back(f.make().error().message);
        f.env.set("DOPPLER_TOKEN", std::string(personal_token));
        messages.push_back(f.make().error().message);
    }
    BOOST_TEST(messages.size() == status_cases.size() + 4);
    for (const std::string& m : messages) {
        BOOST_TEST(m.find(personal_token) == std::string::npos, m);
        BOOST_TEST(m.find("Hk27") == std::string::npos, m);
    }
}

BOOST_FIXTURE_TEST_CASE(names_its_credential_variable, Fixture)
{
    auto backend = personal_answering(200, download_body);
    BOOST_TEST(backend->credential_variables() == (std::vector<std::string>{"DOPPLER_TOKEN"}));
}

BOOST_FIXTURE_TEST_CASE(make_backend_refuses_an_unknown_name, Fixture)
{
    auto r = backends::make_backend("dopler", context);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "unknown backend 'dopler'");
    BOOST_TEST((r.error().code == Errc::config));
}

BOOST_AUTO_TEST_SUITE_END()
