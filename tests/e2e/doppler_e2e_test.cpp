// The secrun binary end to end on the Doppler backend, against the loopback
// fake cloud (secrun_fake_cloud): configuration as the seed document
// sets it, what the command gets, the errors of a bad configuration,
// --scrub-credentials and `secrun check`.
//
// Every run's stdout and stderr are scanned for values and tokens
// (doppler_fixture.hpp).
#include "e2e/doppler_fixture.hpp"
#include "util/strings.hpp"

#include <boost/test/unit_test.hpp>

using namespace secrun;
using namespace secrun::e2e;
using namespace secrun::e2e::doppler;
using testing::FakeCloudProcess;

BOOST_AUTO_TEST_SUITE(doppler_e2e)

// ---- configuration and results ------------------------------------------

BOOST_FIXTURE_TEST_CASE(seed_configuration_injects_every_secret_but_dopplers_own, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    Run r = run_child({});
    auto vars = child_env(r);
    BOOST_TEST(r.err == "");
    BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
    BOOST_TEST(vars["DD_API_KEY"] == "dd-api-s3cr3t-Lm29x");
    BOOST_TEST(vars["DB_URL"] == "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse");
    BOOST_TEST(vars["DB_JSON"] == R"({"user":"user-s3cr3t-Uu5","password":"json-s3cr3t-Pw77"})");
    BOOST_TEST(vars["TRICKY"] == "line one\nline \"two\" $HOME 'q' пароль-s3cr3t-Nn4");
    BOOST_TEST(vars["K12"] == "v12-s3cr3t");
    // Doppler's managed DOPPLER_CONFIG and DOPPLER_ENVIRONMENT are not
    // injected; DOPPLER_PROJECT and the token are the inherited ones.
    BOOST_TEST(vars.count("DOPPLER_CONFIG") == 0u);
    BOOST_TEST(vars.count("DOPPLER_ENVIRONMENT") == 0u);
    BOOST_TEST(vars["DOPPLER_PROJECT"] == "muse");
    BOOST_TEST(vars["DOPPLER_TOKEN"] == service_token);
    BOOST_TEST(vars["PATH"] == "/usr/bin:/bin");
    // 17 secrets + the 6 variables of the environment.
    BOOST_TEST(vars.size() == 17u + 6u);

    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);

    // The same with --ca-file instead of SSL_CERT_FILE.
    env.erase("SSL_CERT_FILE");
    Run with_flag = run_child({"--ca-file", cloud.ca_file().string()});
    auto flag_vars = child_env(with_flag);
    BOOST_TEST(with_flag.err == "");
    BOOST_TEST(flag_vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 2u);

    // A service token implies its project: without DOPPLER_PROJECT the child
    // gets none, so Doppler's own DOPPLER_PROJECT was not injected either.
    env.erase("DOPPLER_PROJECT");
    Run implied = run_child({"--ca-file", cloud.ca_file().string()});
    auto implied_vars = child_env(implied);
    BOOST_TEST(implied.err == "");
    BOOST_TEST(implied_vars["DB_URL"] == "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse");
    BOOST_TEST(implied_vars.count("DOPPLER_PROJECT") == 0u);
    BOOST_TEST(implied_vars.size() == 17u + 4u);
    BOOST_TEST(cloud.counter("vendor.doppler.downloads") == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_manifest_injects_only_its_names, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    write("secrets.manifest", "CH_HOST\n"
                              "DATABASE_URL = DB_URL\n"
                              "DB_PASSWORD = doppler://DB_JSON#password\n"
                              "SENTRY_DSN optional\n"
                              "LOG_LEVEL default=info\n");
    Run r = run_child({});
    auto vars = child_env(r);
    BOOST_TEST(r.err == "");
    BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
    BOOST_TEST(vars["DATABASE_URL"] == "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse");
    BOOST_TEST(vars["DB_PASSWORD"] == "json-s3cr3t-Pw77");
    BOOST_TEST(vars.count("SENTRY_DSN") == 0u);
    BOOST_TEST(vars["LOG_LEVEL"] == "info");
    for (const char* absent :
         {"DB_URL", "DB_JSON", "DD_API_KEY", "TRICKY", "K01", "DOPPLER_CONFIG"})
        BOOST_TEST(vars.count(absent) == 0u, absent << " was injected");
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
}

BOOST_FIXTURE_TEST_CASE(many_keys_need_one_download_on_one_connection, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    std::string manifest;
    for (int i = 1; i <= 12; ++i) {
        const std::string n = util::str_cat(i < 10 ? "0" : "", std::to_string(i));
        manifest += util::str_cat("VAR_", n, " = K", n, "\n");
    }
    manifest += "CH_HOST\nDB_USER = DB_JSON#user\nDB_PASSWORD = DB_JSON#password\n";
    write("many.manifest", manifest);
    Run r = run_child({"-m", "many.manifest", "-vv"});
    auto vars = child_env(r);
    // secrun's own count agrees with the server's.
    BOOST_TEST(r.err == util::str_cat("secrun: debug: requests 1, connections 1, TLS handshakes 1, "
                                      "retries 0\nsecrun: info: resolved 15 variables; starting '",
                                      helper("print_env"), "'\n"));
    BOOST_TEST(vars["VAR_01"] == "v01-s3cr3t");
    BOOST_TEST(vars["VAR_12"] == "v12-s3cr3t");
    BOOST_TEST(vars["DB_USER"] == "user-s3cr3t-Uu5");
    BOOST_TEST(vars["DB_PASSWORD"] == "json-s3cr3t-Pw77");
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
    BOOST_TEST(cloud.counter("requests_total") == 1u);
    BOOST_TEST(cloud.counter("connections.https") == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_personal_token_reads_the_named_project_and_config, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    env.set("DOPPLER_TOKEN", personal_token);
    env.set("DOPPLER_CONFIG", "dev_alice");
    Run r = run_child({});
    auto vars = child_env(r);
    BOOST_TEST(r.err == "");
    BOOST_TEST(vars["DB_URL"] == "postgres://alice:dev-s3cr3t-Ab3@localhost/dev");
    BOOST_TEST(vars["ALICE_ONLY"] == "alice-s3cr3t-Xy1");
    BOOST_TEST(vars.count("CH_HOST") == 0u);
    BOOST_TEST(vars["DOPPLER_CONFIG"] == "dev_alice"); // inherited, not Doppler's
    BOOST_TEST(vars.count("DOPPLER_ENVIRONMENT") == 0u);

    // Without DOPPLER_CONFIG a personal token names no config: nothing is sent.
    env.erase("DOPPLER_CONFIG");
    Run missing = run_child({});
    expect_not_started(missing);
    BOOST_TEST(missing.err ==
               whole_config_failure("DOPPLER_CONFIG is not set (required unless DOPPLER_TOKEN "
                                    "is a service token, dp.st.)"));
    // With a manifest, the one configuration error fails every variable.
    write("alice.manifest", "DB_URL\nALICE_ONLY\n");
    Run named = run_child({"-m", "alice.manifest"});
    expect_not_started(named);
    BOOST_TEST(named.err == util::str_cat("secrun: error: doppler (needed by DB_URL, ALICE_ONLY): "
                                          "DOPPLER_CONFIG is not set (required unless "
                                          "DOPPLER_TOKEN is a service token, dp.st.)\n"
                                          "secrun: error: not starting '",
                                          helper("print_env"), "': 2 of 2 variables failed\n"));
    BOOST_TEST(cloud.counter("requests_total") == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_missing_key_names_the_key_and_the_config, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    write("m.manifest", "CH_HOST\nNOT_THERE\nRENAMED = ALSO_NOT_THERE\n");
    Run r = run_child({"-m", "m.manifest"});
    expect_not_started(r);
    BOOST_TEST(r.err ==
               "secrun: error: NOT_THERE: doppler://NOT_THERE: no secret 'NOT_THERE' in Doppler "
               "muse/prd\n"
               "secrun: error: RENAMED: doppler://ALSO_NOT_THERE: no secret 'ALSO_NOT_THERE' in "
               "Doppler muse/prd\n"
               "secrun: error: not starting '" +
                   helper("print_env") + "': 2 of 3 variables failed\n");
    BOOST_TEST(cloud.requests("GET", download_path) == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_token_is_401_with_dopplers_message, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    env.set("DOPPLER_TOKEN", unknown_token);
    Run r = run_child({"--retries", "2"});
    expect_not_started(r);
    BOOST_TEST(r.err == whole_config_failure("Doppler rejected DOPPLER_TOKEN for the service "
                                             "token's config (HTTP 401: Invalid Auth token)"));
    BOOST_TEST(cloud.requests("GET", download_path) == 1u); // a 401 is not retried
    BOOST_TEST(cloud.counter("vendor.doppler.auth_failures") == 1u);
}

// ---- the command's environment and `check` --------------------------------

BOOST_FIXTURE_TEST_CASE(scrub_credentials_removes_the_token_from_the_child, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    Run r = run_child({"--scrub-credentials"});
    auto vars = child_env(r);
    BOOST_TEST(vars.count("DOPPLER_TOKEN") == 0u);
    BOOST_TEST(vars["DOPPLER_PROJECT"] == "muse"); // configuration, not a credential
    BOOST_TEST(vars["DOPPLER_API_HOST"] == cloud.https_url());
    BOOST_TEST(vars["CH_HOST"] == "ch-host-s3cr3t-Vq81.internal");
}

BOOST_FIXTURE_TEST_CASE(check_prints_names_and_status_never_values, DopplerFixture)
{
    FakeCloudProcess cloud({.scenario = scenario()});
    configure(cloud);
    write("m.manifest", "CH_HOST\n"
                        "DB_PASSWORD = DB_JSON#password\n"
                        "SENTRY_DSN optional\n"
                        "LOG_LEVEL default=info\n");
    Run r = run({"check", "-m", "m.manifest"});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.err == "");
    BOOST_TEST(r.out == "NAME         BACKEND  KEY                         SOURCE    STATUS\n"
                        "CH_HOST      doppler  doppler://CH_HOST           muse/prd  ok\n"
                        "DB_PASSWORD  doppler  doppler://DB_JSON#password  muse/prd  ok\n"
                        "SENTRY_DSN   doppler  doppler://SENTRY_DSN        -         missing\n"
                        "LOG_LEVEL    doppler  doppler://LOG_LEVEL         default   default\n");

    // A failure: its row says why, stderr repeats it, the status is 1.
    write("bad.manifest", "CH_HOST\nNOT_THERE\n");
    Run failed = run({"check", "-m", "bad.manifest"});
    BOOST_TEST(failed.status == 1);
    BOOST_TEST(failed.out == "NAME       BACKEND  KEY                  SOURCE    STATUS\n"
                             "CH_HOST    doppler  doppler://CH_HOST    muse/prd  ok\n"
                             "NOT_THERE  doppler  doppler://NOT_THERE  -         error: no secret "
                             "'NOT_THERE' in Doppler muse/prd\n");
    BOOST_TEST(failed.err ==
               "secrun: error: NOT_THERE: doppler://NOT_THERE: no secret 'NOT_THERE' in Doppler "
               "muse/prd\n");

    // No manifest: every secret of the config, by name, none of Doppler's own.
    Run all = run({"check"});
    BOOST_TEST(all.status == 0);
    BOOST_TEST(all.err == "");
    const auto rows = lines_of(all.out);
    BOOST_TEST_INFO("stdout: " << all.out);
    BOOST_TEST_REQUIRE(rows.size() == 18u);
    BOOST_TEST(rows[0] == "NAME        BACKEND  KEY                   SOURCE    STATUS");
    BOOST_TEST(rows[1] == "CH_HOST     doppler  doppler://CH_HOST     muse/prd  ok");
    BOOST_TEST(rows[17] == "TRICKY      doppler  doppler://TRICKY      muse/prd  ok");
    BOOST_TEST(!contains(all.out, "DOPPLER_"));
    BOOST_TEST(cloud.requests("GET", download_path) == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
