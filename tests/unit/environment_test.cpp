#include "exec/environment.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <ostream>
#include <string>
#include <vector>

using namespace secrun;
using secrun::exec::build_environment;
using secrun::exec::EnvPolicy;
using secrun::exec::ExecEnvironment;

namespace {

// Every "NAME=value" entry, in order, read through envp() as execve would.
std::vector<std::string> entries(ExecEnvironment& env)
{
    std::vector<std::string> out;
    for (char* const* p = env.envp(); *p != nullptr; ++p)
        out.emplace_back(*p);
    return out;
}

ExecEnvironment build(const EnvMap& inherited, const SecretMap& resolved, const EnvPolicy& policy)
{
    auto env = build_environment(inherited, resolved, policy);
    BOOST_TEST_REQUIRE(env.has_value(), (env ? "" : env.error().message));
    return std::move(*env);
}

// One row of the precedence table, for one variable X.
struct Row {
    bool inherited; // X=in is inherited
    bool resolved;  // X=res is resolved
    bool pristine;
    bool preserve; // X is named by --preserve-env
    bool scrub;    // X is a scrubbed credential
    const char* expected; // "in", "res" or "" (unset)
};

std::ostream& operator<<(std::ostream& os, const Row& r)
{
    return os << "inherited=" << r.inherited << " resolved=" << r.resolved
              << " pristine=" << r.pristine << " preserve=" << r.preserve
              << " scrub=" << r.scrub;
}

// The rule of environment.hpp, written out case by case.
const std::vector<Row> rule_table = {
    //  inh    res    prist  presv  scrub  -> X
    {false, false, false, false, false, ""},
    {false, false, false, false, true, ""},
    {false, false, false, true, false, ""},
    {false, false, false, true, true, ""},
    {false, false, true, false, false, ""},
    {false, false, true, false, true, ""},
    {false, false, true, true, false, ""},
    {false, false, true, true, true, ""},
    {false, true, false, false, false, "res"},
    {false, true, false, false, true, "res"},
    {false, true, false, true, false, "res"}, // preserve needs something to preserve
    {false, true, false, true, true, "res"},
    {false, true, true, false, false, "res"},
    {false, true, true, false, true, "res"},
    {false, true, true, true, false, "res"},
    {false, true, true, true, true, "res"},
    {true, false, false, false, false, "in"},
    {true, false, false, false, true, ""},    // scrubbed
    {true, false, false, true, false, "in"},
    {true, false, false, true, true, "in"},   // preserve beats scrub
    {true, false, true, false, false, ""},    // pristine
    {true, false, true, false, true, ""},
    {true, false, true, true, false, "in"},   // preserve survives pristine
    {true, false, true, true, true, "in"},
    {true, true, false, false, false, "res"}, // resolved overrides inherited
    {true, true, false, false, true, "res"},  // scrub removes only the inherited one
    {true, true, false, true, false, "in"},   // preserve: inherited wins
    {true, true, false, true, true, "in"},
    {true, true, true, false, false, "res"},
    {true, true, true, false, true, "res"},
    {true, true, true, true, false, "in"},
    {true, true, true, true, true, "in"},
};

} // namespace

BOOST_AUTO_TEST_SUITE(environment)

BOOST_DATA_TEST_CASE(follows_the_precedence_rule, boost::unit_test::data::make(rule_table), row)
{
    EnvMap inherited;
    inherited.set("A_OTHER", "a");
    if (row.inherited)
        inherited.set("X", "in");
    SecretMap resolved;
    if (row.resolved)
        resolved.emplace("X", SecretString(std::string_view("res")));
    EnvPolicy policy;
    policy.pristine = row.pristine;
    if (row.preserve)
        policy.preserve = {"X"};
    if (row.scrub)
        policy.scrub = {"X"};

    auto env = build(inherited, resolved, policy);
    const auto x = env.find("X");
    BOOST_TEST(x.value_or("") == std::string_view(row.expected), row);
    BOOST_TEST(x.has_value() == (std::strlen(row.expected) != 0), row);
    // An unrelated inherited variable follows pristine alone.
    BOOST_TEST(env.find("A_OTHER").has_value() == !row.pristine, row);
}

BOOST_AUTO_TEST_CASE(entries_are_sorted_by_name_and_envp_is_null_terminated)
{
    EnvMap inherited;
    inherited.set("ZED", "z");
    inherited.set("HOME", "/root");
    inherited.set("PATH", "/bin");
    SecretMap resolved;
    resolved.emplace("DB_PASSWORD", SecretString(std::string_view("pw")));
    resolved.emplace("PATH", SecretString(std::string_view("/opt/bin")));
    resolved.emplace("AAA", SecretString(std::string_view("")));

    auto env = build(inherited, resolved, {});
    const std::vector<std::string> expected = {"AAA=", "DB_PASSWORD=pw", "HOME=/root",
                                               "PATH=/opt/bin", "ZED=z"};
    BOOST_TEST(entries(env) == expected, boost::test_tools::per_element());
    BOOST_TEST(env.size() == 5u);
    const std::vector<std::string_view> names = {"AAA", "DB_PASSWORD", "HOME", "PATH", "ZED"};
    BOOST_TEST(env.names() == names, boost::test_tools::per_element());
    char* const* envp = env.envp();
    BOOST_TEST(envp[5] == nullptr);
}

BOOST_AUTO_TEST_CASE(resolved_vars_in_any_order_give_the_same_result_and_the_later_wins)
{
    const SecretString one(std::string_view("1"));
    const SecretString two(std::string_view("2"));
    const SecretString three(std::string_view("3"));
    const std::vector<exec::ResolvedVar> forward = {{"B", one}, {"A", two}, {"B", three}};
    const std::vector<exec::ResolvedVar> other = {{"A", two}, {"B", one}, {"B", three}};

    auto a = build_environment(EnvMap{}, forward, {});
    auto b = build_environment(EnvMap{}, other, {});
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST_REQUIRE(b.has_value());
    const std::vector<std::string> expected = {"A=2", "B=3"};
    BOOST_TEST(entries(*a) == expected, boost::test_tools::per_element());
    BOOST_TEST(entries(*b) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(values_pass_byte_for_byte)
{
    const std::string value = "line1\nline2 $HOME \"q\" 'q' `x` \\ a=b \xc3\xa9\xe2\x82\xac\t\r";
    SecretMap resolved;
    resolved.emplace("V", SecretString(std::string_view(value)));
    auto env = build(EnvMap{}, resolved, {});
    BOOST_TEST(env.find("V").value_or("") == value);
    BOOST_TEST(entries(env).front() == "V=" + value);
}

BOOST_AUTO_TEST_CASE(refuses_a_value_with_a_nul_byte_naming_the_variable_only)
{
    SecretMap resolved;
    resolved.emplace("DB_KEY", SecretString(std::string_view("se\0cret", 7)));
    auto env = build_environment(EnvMap{}, resolved, {});
    BOOST_TEST_REQUIRE(env.has_error());
    BOOST_TEST(env.error().message == "DB_KEY: value contains a NUL byte and cannot be put in "
                                      "the environment (use a 'file' entry)");
    BOOST_TEST((env.error().code == Errc::value));
}

BOOST_AUTO_TEST_CASE(refuses_names_execve_cannot_carry)
{
    for (const std::string_view name :
         {std::string_view("A=B"), std::string_view(""), std::string_view("A\0B", 3)}) {
        SecretMap resolved;
        resolved.emplace(std::string(name), SecretString(std::string_view("v")));
        auto env = build_environment(EnvMap{}, resolved, {});
        BOOST_TEST_REQUIRE(env.has_error());
        BOOST_TEST((env.error().code == Errc::value));
    }
    SecretMap resolved;
    resolved.emplace("A=B", SecretString(std::string_view("v")));
    BOOST_TEST(build_environment(EnvMap{}, resolved, {}).error().message ==
               "'A=B' is not a valid environment variable name");
    SecretMap with_nul;
    with_nul.emplace(std::string("A\0B", 3), SecretString(std::string_view("v")));
    BOOST_TEST(build_environment(EnvMap{}, with_nul, {}).error().message ==
               "'A\\x00B' is not a valid environment variable name");
}

BOOST_AUTO_TEST_CASE(inherited_names_that_are_not_posix_pass_through)
{
    EnvMap inherited;
    inherited.set("my.dotted-name", "x");
    auto env = build(inherited, {}, {});
    BOOST_TEST(env.find("my.dotted-name").value_or("") == "x");
}

BOOST_AUTO_TEST_CASE(find_matches_whole_names_only)
{
    EnvMap inherited;
    inherited.set("PATHX", "no");
    inherited.set("PAT", "no");
    auto env = build(inherited, {}, {});
    BOOST_TEST(!env.find("PATH").has_value());
    BOOST_TEST(env.find("PAT").value_or("") == "no");
}

BOOST_AUTO_TEST_CASE(clear_and_move_leave_nothing_behind)
{
    SecretMap resolved;
    resolved.emplace("K", SecretString(std::string_view("value")));
    auto env = build(EnvMap{}, resolved, {});
    ExecEnvironment moved(std::move(env));
    BOOST_TEST(env.empty()); // NOLINT(bugprone-use-after-move): the moved-from state is specified
    BOOST_TEST(moved.find("K").value_or("") == "value");

    ExecEnvironment assigned;
    assigned = std::move(moved);
    BOOST_TEST(moved.empty()); // NOLINT(bugprone-use-after-move)
    BOOST_TEST(assigned.size() == 1u);

    assigned.clear();
    BOOST_TEST(assigned.empty());
    BOOST_TEST(assigned.envp()[0] == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
