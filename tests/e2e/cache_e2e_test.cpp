// Last known good (--cache) end to end, against the Doppler fake: written
// after a good run, used only when the backend is unavailable, never when it
// refuses access or when the manifest changed.
#include "e2e/harness.hpp"
#include "fakes/fake_cloud_process.hpp"
#include "fakes/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <sys/stat.h>

using namespace secrun;
using namespace secrun::e2e;
using testing::FakeCloudOptions;
using testing::FakeCloudProcess;
using testing::TempDir;

namespace {

constexpr std::string_view token = "dp.st.prd.cachetesttoken0123456789";
constexpr std::string_view value_a = "cache-secret-value-A1";
constexpr std::string_view value_b = "cache-secret-value-B2";

std::string doppler_scenario(std::string_view faults = "[]")
{
    return std::string(R"({"faults":)") + std::string(faults) +
           R"(,"vendors":{"doppler":{"projects":{"muse":{"prd":{"secrets":{"A":")" +
           std::string(value_a) + R"(","B":")" + std::string(value_b) +
           R"("}}}},"tokens":{")" + std::string(token) + R"(":{"project":"muse","config":"prd"}}}}})";
}

struct CacheFixture {
    TempDir dir{"e2e-cache"};
    std::string cache = (dir / "lkg.bin").string();

    EnvMap env_for(const FakeCloudProcess& cloud) const
    {
        EnvMap env = base_env();
        env.set("SECRETS_BACKEND", "doppler");
        env.set("DOPPLER_TOKEN", std::string(token));
        env.set("DOPPLER_API_HOST", cloud.https_url());
        env.set("SSL_CERT_FILE", cloud.ca_file().string());
        env.set("SECRUN_CACHE_KEY", std::string(64, 'a'));
        return env;
    }

    Run run(const FakeCloudProcess& cloud, std::vector<std::string> extra = {},
            std::string_view manifest = "A\nB\n")
    {
        dir.write("m.manifest", manifest);
        std::vector<std::string> args{"-m", "m.manifest", "--cache", cache, "--retries", "1",
                                      "--timeout", "5s"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("--");
        args.push_back(helper("print_env"));
        Run r = run_secrun(args, env_for(cloud), dir.path());
        BOOST_TEST(!contains(r.err, value_a));
        BOOST_TEST(!contains(r.err, value_b));
        BOOST_TEST(!contains(r.err, token));
        return r;
    }

    std::string cache_bytes() const
    {
        std::ifstream in(cache, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(last_known_good)

BOOST_FIXTURE_TEST_CASE(good_run_writes_an_encrypted_0600_cache_then_an_outage_uses_it, CacheFixture)
{
    {
        FakeCloudProcess healthy({.scenario = doppler_scenario()});
        Run first = run(healthy);
        BOOST_TEST_REQUIRE(first.status == 0);
        BOOST_TEST(parse_env0(first.out)["A"] == value_a);
    }
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(cache.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    BOOST_TEST(!contains(cache_bytes(), value_a));
    BOOST_TEST(!contains(cache_bytes(), value_b));

    FakeCloudProcess down({.scenario = doppler_scenario(R"([{"path":"/v3","count":-1,"action":"status","status":503}])")});
    Run second = run(down);
    BOOST_TEST(second.status == 0);
    const auto vars = parse_env0(second.out);
    BOOST_TEST(vars.at("A") == value_a);
    BOOST_TEST(vars.at("B") == value_b);
    BOOST_TEST(contains(second.err, "secrun: warning: the backend is unavailable; starting from the cache " + cache + ", written "));
}

BOOST_FIXTURE_TEST_CASE(refused_access_never_uses_the_cache, CacheFixture)
{
    {
        FakeCloudProcess healthy({.scenario = doppler_scenario()});
        BOOST_TEST_REQUIRE(run(healthy).status == 0);
    }
    FakeCloudProcess revoked({.scenario = doppler_scenario(R"([{"path":"/v3","count":-1,"action":"status","status":401,"body":{"messages":["Invalid Auth token"],"success":false}}])")});
    Run r = run(revoked);
    BOOST_TEST(r.status == 125);
    BOOST_TEST(r.out == "");
    BOOST_TEST(!contains(r.err, "starting from the cache"));
}

BOOST_FIXTURE_TEST_CASE(a_changed_manifest_never_uses_the_cache, CacheFixture)
{
    {
        FakeCloudProcess healthy({.scenario = doppler_scenario()});
        BOOST_TEST_REQUIRE(run(healthy).status == 0);
    }
    FakeCloudProcess down({.scenario = doppler_scenario(R"([{"path":"/v3","count":-1,"action":"status","status":503}])")});
    Run r = run(down, {}, "A\n");
    BOOST_TEST(r.status == 125);
    BOOST_TEST(r.out == "");
    BOOST_TEST(contains(r.err, "cannot use the cache: cache '" + cache + "' is not for this manifest"));
}

BOOST_FIXTURE_TEST_CASE(a_tampered_or_too_old_cache_is_rejected, CacheFixture)
{
    {
        FakeCloudProcess healthy({.scenario = doppler_scenario()});
        BOOST_TEST_REQUIRE(run(healthy).status == 0);
    }
    FakeCloudProcess down({.scenario = doppler_scenario(R"([{"path":"/v3","count":-1,"action":"status","status":503}])")});
    // Older than allowed: --cache-max-age is checked against the write time.
    ::sleep(2);
    Run old = run(down, {"--cache-max-age", "1s"});
    BOOST_TEST(old.status == 125);
    BOOST_TEST(contains(old.err, "older than --cache-max-age"));

    std::string bytes = cache_bytes();
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x40);
    dir.write("lkg.bin", bytes);
    Run tampered = run(down);
    BOOST_TEST(tampered.status == 125);
    BOOST_TEST(contains(tampered.err, "failed authentication: tampered with, truncated, or written with another key"));
}

BOOST_FIXTURE_TEST_CASE(an_unwritable_cache_location_is_a_warning, CacheFixture)
{
    cache = (dir / "no-such-dir" / "lkg.bin").string();
    FakeCloudProcess healthy({.scenario = doppler_scenario()});
    Run r = run(healthy);
    BOOST_TEST(r.status == 0);
    BOOST_TEST(contains(r.err, "secrun: warning: not writing the cache: "));
}

BOOST_AUTO_TEST_SUITE_END()
