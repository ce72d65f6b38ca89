#include "util/subprocess.hpp"

#include "fakes/run_awaitable.hpp"

#include <boost/test/unit_test.hpp>

using namespace secrun;
using namespace std::chrono_literals;

namespace {
EnvMap path_only() { return EnvMap(EnvMap::Map{{"PATH", "/usr/bin:/bin"}}); }
} // namespace

BOOST_AUTO_TEST_SUITE(subprocess)

BOOST_AUTO_TEST_CASE(captures_stdout_stderr_and_status)
{
    auto r = testing::run(util::run_subprocess(
        {"sh", "-c", "printf out; printf err >&2; exit 3"}, path_only(), {5s, 1024}));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->exit_code == 3);
    BOOST_TEST(r->out == "out");
    BOOST_TEST(r->err == "err");
}

BOOST_AUTO_TEST_CASE(passes_exactly_the_given_environment)
{
    EnvMap env = path_only();
    env.set("ONLY_THIS", "x y");
    auto r = testing::run(util::run_subprocess({"sh", "-c", "env | sort"}, env, {5s, 4096}));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->out.find("ONLY_THIS=x y\n") != std::string::npos);
    BOOST_TEST(r->out.find("HOME=") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(kills_a_command_that_runs_too_long)
{
    const auto start = std::chrono::steady_clock::now();
    auto r = testing::run(util::run_subprocess({"sleep", "10"}, path_only(), {300ms, 1024}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "'sleep' did not finish within 300 ms");
    BOOST_TEST((std::chrono::steady_clock::now() - start) < 5s);
}

BOOST_AUTO_TEST_CASE(refuses_unbounded_output)
{
    auto r = testing::run(util::run_subprocess({"sh", "-c", "yes"}, path_only(), {5s, 10000}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "'sh' wrote more than 10000 bytes");
}

BOOST_AUTO_TEST_CASE(reports_a_missing_program)
{
    auto r = testing::run(util::run_subprocess({"no-such-program-xyz"}, path_only(), {5s, 1024}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "command 'no-such-program-xyz' not found in PATH");
}

BOOST_AUTO_TEST_SUITE_END()
