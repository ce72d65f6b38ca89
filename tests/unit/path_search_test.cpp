#include "exec/path_search.hpp"

#include "unit/exec_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>

using namespace secrun;
using secrun::exec::find_in_path;

namespace {

// A file system of executables by path: the errno each path gives (0 means
// executable), ENOENT for anything not listed. Records every path asked.
struct FakeFs {
    std::map<std::string, int> files;
    std::vector<std::string> asked;

    exec::ExecutableCheck check()
    {
        return [this](const std::string& path) {
            asked.push_back(path);
            const auto it = files.find(path);
            return it == files.end() ? ENOENT : it->second;
        };
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(path_search)

BOOST_AUTO_TEST_CASE(a_name_with_a_slash_is_used_as_is_unchecked)
{
    FakeFs fs;
    BOOST_TEST(find_in_path("./run.sh", std::string_view("/bin"), fs.check()).value() == "./run.sh");
    BOOST_TEST(find_in_path("/no/such", std::string_view("/bin"), fs.check()).value() == "/no/such");
    BOOST_TEST(find_in_path("bin/x", std::nullopt, fs.check()).value() == "bin/x");
    BOOST_TEST(fs.asked.empty());
}

BOOST_AUTO_TEST_CASE(takes_the_first_executable_match_in_order)
{
    FakeFs fs;
    fs.files = {{"/usr/local/bin/app", 0}, {"/usr/bin/app", 0}};
    auto r = find_in_path("app", std::string_view("/opt/bin:/usr/local/bin:/usr/bin"), fs.check());
    BOOST_TEST(r.value() == "/usr/local/bin/app");
    const std::vector<std::string> asked = {"/opt/bin/app", "/usr/local/bin/app"};
    BOOST_TEST(fs.asked == asked, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unset_path_means_glibcs_default)
{
    FakeFs fs;
    auto r = find_in_path("app", std::nullopt, fs.check());
    BOOST_TEST_REQUIRE(r.has_error());
    const std::vector<std::string> asked = {"/bin/app", "/usr/bin/app"};
    BOOST_TEST(fs.asked == asked, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_empty_element_means_the_current_directory)
{
    struct Case {
        std::string_view path;
        std::vector<std::string> asked;
    };
    const std::vector<Case> cases = {
        {"", {"./app"}},
        {":/bin", {"./app", "/bin/app"}},
        {"/bin:", {"/bin/app", "./app"}},
        {"/a::/b", {"/a/app", "./app", "/b/app"}},
        {".", {"./app"}},
        {"/bin/", {"/bin//app"}},
    };
    for (const auto& c : cases) {
        FakeFs fs;
        BOOST_TEST(find_in_path("app", c.path, fs.check()).has_error());
        BOOST_TEST(fs.asked == c.asked, boost::test_tools::per_element());
    }
    FakeFs fs;
    fs.files = {{"./app", 0}};
    BOOST_TEST(find_in_path("app", std::string_view("/bin::/usr/bin"), fs.check()).value() ==
               "./app");
}

BOOST_AUTO_TEST_CASE(not_found_anywhere_is_127)
{
    FakeFs fs;
    auto r = find_in_path("foo", std::string_view("/bin:/usr/bin"), fs.check());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "command 'foo' not found in PATH");
    BOOST_TEST((r.error().code == Errc::exec_not_found));
    BOOST_TEST(exit_code_for(r.error().code) == 127);
}

BOOST_AUTO_TEST_CASE(eacces_is_remembered_and_reported_when_nothing_else_is_found)
{
    FakeFs fs;
    fs.files = {{"/a/x", EACCES}, {"/b/x", ENOTDIR}};
    auto r = find_in_path("x", std::string_view("/a:/b:/c"), fs.check());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "command 'x' is not executable: Permission denied");
    BOOST_TEST((r.error().code == Errc::exec_not_executable));
    BOOST_TEST(exit_code_for(r.error().code) == 126);
    BOOST_TEST(fs.asked.size() == 3u); // the search went on after EACCES
}

BOOST_AUTO_TEST_CASE(a_later_executable_wins_over_an_earlier_eacces)
{
    FakeFs fs;
    fs.files = {{"/a/x", EACCES}, {"/b/x", 0}};
    BOOST_TEST(find_in_path("x", std::string_view("/a:/b"), fs.check()).value() == "/b/x");
}

BOOST_AUTO_TEST_CASE(missing_like_errors_go_on_to_the_next_element)
{
    for (int err : {ENOENT, ENOTDIR, ESTALE, ENODEV, ETIMEDOUT}) {
        FakeFs fs;
        fs.files = {{"/a/x", err}, {"/b/x", 0}};
        BOOST_TEST(find_in_path("x", std::string_view("/a:/b"), fs.check()).value() == "/b/x");
    }
}

BOOST_AUTO_TEST_CASE(any_other_error_ends_the_search)
{
    FakeFs fs;
    fs.files = {{"/a/x", ELOOP}, {"/b/x", 0}};
    auto r = find_in_path("x", std::string_view("/a:/b"), fs.check());
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "command 'x' is not executable: Too many levels of symbolic links");
    BOOST_TEST((r.error().code == Errc::exec_not_executable));
    BOOST_TEST(fs.asked.size() == 1u);
}

BOOST_AUTO_TEST_CASE(odd_names_are_quoted_in_messages)
{
    FakeFs fs;
    BOOST_TEST(find_in_path("a\nb", std::string_view("/bin"), fs.check()).error().message ==
               "command 'a\\x0ab' not found in PATH");
    BOOST_TEST(find_in_path("", std::string_view("/bin"), fs.check()).error().message ==
               "command '' not found");
}

BOOST_AUTO_TEST_CASE(check_executable_reads_the_real_file_system)
{
    testing::TempDir dir;
    testing::write_file(dir / "prog", "#!/bin/sh\n", 0755);
    testing::write_file(dir / "data", "x", 0644);
    ::mkdir((dir / "sub").c_str(), 0755);

    BOOST_TEST(exec::check_executable(dir / "prog") == 0);
    BOOST_TEST(exec::check_executable(dir / "data") == EACCES); // even for root: no x bit
    BOOST_TEST(exec::check_executable(dir / "sub") == EACCES);  // execve says so for a directory
    BOOST_TEST(exec::check_executable(dir / "missing") == ENOENT);
    BOOST_TEST(exec::check_executable(dir / "data/x") == ENOTDIR);

    // And through the search: the directory and the data file are skipped.
    const std::string path = (dir / "sub") + ":" + dir.path().string();
    auto r = find_in_path("prog", std::string_view(path), exec::check_executable);
    BOOST_TEST(r.value() == dir / "prog");
}

BOOST_AUTO_TEST_SUITE_END()
