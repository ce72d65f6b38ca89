#include "exec/file_writer.hpp"

#include "unit/exec_support.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace secrun;
using secrun::exec::FileSet;
using secrun::testing::read_file;
using secrun::testing::TempDir;

namespace fs = std::filesystem;

namespace {

mode_t mode_of(const std::string& path)
{
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat(path.c_str(), &st) == 0, path);
    return st.st_mode & 07777;
}

ino_t inode_of(const std::string& path)
{
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat(path.c_str(), &st) == 0, path);
    return st.st_ino;
}

std::vector<std::string> list_dir(const fs::path& dir)
{
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

SecretString secret(std::string_view s) { return SecretString(s); }

} // namespace

BOOST_AUTO_TEST_SUITE(file_writer)

BOOST_AUTO_TEST_CASE(private_dir_bases_prefer_tmpfs_and_skip_unusable_variables)
{
    EnvMap env;
    env.set("XDG_RUNTIME_DIR", "/run/user/1000");
    env.set("TMPDIR", "/var/tmp");
    const std::vector<std::string> all = {"/run/user/1000", "/dev/shm", "/var/tmp", "/tmp"};
    BOOST_TEST(exec::private_dir_bases(env) == all, boost::test_tools::per_element());

    EnvMap odd;
    odd.set("XDG_RUNTIME_DIR", "");
    odd.set("TMPDIR", "relative/tmp");
    const std::vector<std::string> fixed = {"/dev/shm", "/tmp"};
    BOOST_TEST(exec::private_dir_bases(odd) == fixed, boost::test_tools::per_element());
    BOOST_TEST(exec::private_dir_bases(EnvMap{}) == fixed, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(writes_a_0400_file_in_a_0700_private_directory)
{
    TempDir base;
    FileSet files({base.path().string()});
    const char raw[] = "-----BEGIN KEY-----\n\0\xff binary\n";
    const std::string value(raw, sizeof raw - 1);
    auto path = files.write("TLS_KEY", secret(value));
    BOOST_TEST_REQUIRE(path.has_value(), (path ? "" : path.error().message));

    const fs::path dir = fs::path(*path).parent_path();
    BOOST_TEST(dir.parent_path() == base.path());
    BOOST_TEST(dir.filename().string().starts_with("secrun-"));
    BOOST_TEST(dir.string() == files.private_dir());
    BOOST_TEST(fs::path(*path).filename() == "TLS_KEY");
    BOOST_TEST(mode_of(dir.string()) == 0700u);
    BOOST_TEST(mode_of(*path) == 0400u);
    BOOST_TEST(read_file(*path) == value);

    // One directory per run.
    auto second = files.write("OTHER", secret("x"));
    BOOST_TEST(fs::path(second.value()).parent_path() == dir);
}

BOOST_AUTO_TEST_CASE(modes_do_not_depend_on_the_umask)
{
    TempDir base;
    const mode_t old = ::umask(0777);
    FileSet files({base.path().string()});
    auto path = files.write("K", secret("v"));
    auto replaced = files.write("K2", secret("v"), base / "target");
    ::umask(old);
    BOOST_TEST_REQUIRE(path.has_value());
    BOOST_TEST_REQUIRE(replaced.has_value());
    BOOST_TEST(mode_of(files.private_dir()) == 0700u);
    BOOST_TEST(mode_of(*path) == 0400u);
    BOOST_TEST(mode_of(*replaced) == 0400u);
}

BOOST_AUTO_TEST_CASE(refuses_to_overwrite_an_existing_file_in_the_private_directory)
{
    TempDir base;
    FileSet files({base.path().string()});
    auto first = files.write("K", secret("one"));
    BOOST_TEST_REQUIRE(first.has_value());
    auto again = files.write("K", secret("two"));
    BOOST_TEST_REQUIRE(again.has_error());
    BOOST_TEST(again.error().message == "K: cannot create '" + *first + "': File exists");
    BOOST_TEST((again.error().code == Errc::io));
    BOOST_TEST(read_file(*first) == "one");

    // Nor through a symlink planted under the name (O_EXCL|O_NOFOLLOW).
    const std::string link = files.private_dir() + "/L";
    BOOST_TEST_REQUIRE(::symlink((base / "elsewhere").c_str(), link.c_str()) == 0);
    auto via_link = files.write("L", secret("x"));
    BOOST_TEST_REQUIRE(via_link.has_error());
    BOOST_TEST(via_link.error().message == "L: cannot create '" + link + "': File exists");
    BOOST_TEST(!fs::exists(base / "elsewhere"));
    ::unlink(link.c_str());
}

BOOST_AUTO_TEST_CASE(falls_back_to_the_next_base_and_reports_every_failure)
{
    TempDir base;
    FileSet files({"/nonexistent/a", base.path().string()});
    auto path = files.write("K", secret("v"));
    BOOST_TEST_REQUIRE(path.has_value());
    BOOST_TEST(fs::path(*path).parent_path().parent_path() == base.path());

    FileSet none({"/nonexistent/a", "/nonexistent/b"});
    auto failed = none.write("K", secret("v"));
    BOOST_TEST_REQUIRE(failed.has_error());
    BOOST_TEST(failed.error().message ==
               "K: cannot create a private directory: '/nonexistent/a': No such file or "
               "directory; '/nonexistent/b': No such file or directory");

    FileSet nowhere({});
    BOOST_TEST(nowhere.write("K", secret("v")).error().message ==
               "K: cannot create a private directory: no directory to create it in");
}

BOOST_AUTO_TEST_CASE(refuses_names_that_are_not_plain_file_names)
{
    TempDir base;
    FileSet files({base.path().string()});
    for (const char* name : {"a/b", "..", ".", ""}) {
        auto r = files.write(name, secret("v"));
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == Errc::value));
    }
    BOOST_TEST(files.write("a/b", secret("v")).error().message == "a/b: not usable as a file name");
    BOOST_TEST(list_dir(base.path()).empty()); // no directory made for nothing
}

BOOST_AUTO_TEST_CASE(replaces_a_given_path_atomically)
{
    TempDir dir;
    const std::string target = dir / "cert.pem";
    testing::write_file(target, "old", 0644);
    const ino_t old_inode = inode_of(target);
    // A reader that opened the old file keeps seeing all of it.
    const int reader = ::open(target.c_str(), O_RDONLY);

    FileSet files({});
    auto path = files.write("TLS_CERT", secret("new value"), target);
    BOOST_TEST_REQUIRE(path.has_value(), (path ? "" : path.error().message));
    BOOST_TEST(*path == target);
    BOOST_TEST(read_file(target) == "new value");
    BOOST_TEST(mode_of(target) == 0400u);
    BOOST_TEST(inode_of(target) != old_inode); // renamed over, not rewritten in place
    char buf[8] = {};
    BOOST_TEST(::read(reader, buf, sizeof buf) == 3);
    BOOST_TEST(std::string(buf) == "old");
    ::close(reader);
    const std::vector<std::string> only = {"cert.pem"};
    BOOST_TEST(list_dir(dir.path()) == only, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(replaces_a_symlink_instead_of_writing_through_it)
{
    TempDir dir;
    testing::write_file(dir / "victim", "keep", 0644);
    BOOST_TEST_REQUIRE(::symlink((dir / "victim").c_str(), (dir / "link").c_str()) == 0);
    FileSet files({});
    BOOST_TEST_REQUIRE(files.write("K", secret("v"), dir / "link").has_value());
    BOOST_TEST(!fs::is_symlink(dir / "link"));
    BOOST_TEST(read_file(dir / "link") == "v");
    BOOST_TEST(read_file(dir / "victim") == "keep");
}

BOOST_AUTO_TEST_CASE(a_relative_path_is_returned_as_written_and_removed_from_where_it_was)
{
    TempDir dir;
    const auto old_cwd = fs::current_path();
    {
        FileSet files({});
        fs::current_path(dir.path());
        auto path = files.write("K", secret("v"), "key.txt");
        fs::current_path(old_cwd);
        BOOST_TEST_REQUIRE(path.has_value(), (path ? "" : path.error().message));
        BOOST_TEST(*path == "key.txt");
        BOOST_TEST(read_file(dir / "key.txt") == "v");
    } // removed although the working directory changed back
    BOOST_TEST(!fs::exists(dir / "key.txt"));
}

BOOST_AUTO_TEST_CASE(write_errors_name_the_variable_and_path_and_leave_nothing)
{
    TempDir dir;
    FileSet files({});
    auto missing_dir = files.write("K", secret("v"), dir / "nodir/f");
    BOOST_TEST_REQUIRE(missing_dir.has_error());
    BOOST_TEST(missing_dir.error().message ==
               "K: cannot write '" + (dir / "nodir/f") + "': No such file or directory");
    BOOST_TEST((missing_dir.error().code == Errc::io));

    fs::create_directory(dir / "adir");
    auto onto_dir = files.write("K", secret("v"), dir / "adir");
    BOOST_TEST_REQUIRE(onto_dir.has_error());
    BOOST_TEST(onto_dir.error().message == "K: cannot write '" + (dir / "adir") + "': Is a directory");

    auto trailing = files.write("K", secret("v"), dir / "adir/");
    BOOST_TEST_REQUIRE(trailing.has_error());
    BOOST_TEST(trailing.error().message == "K: cannot write '" + (dir / "adir/") + "': Is a directory");

    const std::vector<std::string> left = {"adir"}; // no temporary file left behind
    BOOST_TEST(list_dir(dir.path()) == left, boost::test_tools::per_element());
    BOOST_TEST(list_dir(dir / "adir").empty());
}

BOOST_AUTO_TEST_CASE(everything_written_is_removed_on_a_failure_path)
{
    TempDir base;
    TempDir dir;
    std::string private_file;
    std::string private_dir;
    {
        FileSet files({base.path().string()});
        private_file = files.write("A", secret("a")).value();
        BOOST_TEST_REQUIRE(files.write("B", secret("b"), dir / "b.txt").has_value());
        private_dir = files.private_dir();
        BOOST_TEST(fs::exists(private_file));
    } // destroyed without release(): secrun is exiting 125
    BOOST_TEST(!fs::exists(private_file));
    BOOST_TEST(!fs::exists(private_dir));
    BOOST_TEST(!fs::exists(dir / "b.txt"));
    BOOST_TEST(list_dir(base.path()).empty());
}

BOOST_AUTO_TEST_CASE(release_keeps_the_files_and_remove_all_removes_them_now)
{
    TempDir base;
    std::string kept;
    {
        FileSet files({base.path().string()});
        kept = files.write("A", secret("a")).value();
        files.release();
    }
    BOOST_TEST(read_file(kept) == "a");

    FileSet files({base.path().string()});
    const std::string now = files.write("A", secret("a")).value();
    files.remove_all();
    BOOST_TEST(!fs::exists(now));
    BOOST_TEST(files.private_dir().empty());
}

BOOST_AUTO_TEST_CASE(remove_all_leaves_a_path_that_someone_replaced_meanwhile)
{
    TempDir dir;
    const std::string target = dir / "f";
    {
        FileSet files({});
        BOOST_TEST_REQUIRE(files.write("K", secret("mine"), target).has_value());
        // Someone else renames their file over ours.
        testing::write_file(target + ".new", "theirs", 0644);
        BOOST_TEST_REQUIRE(::rename((target + ".new").c_str(), target.c_str()) == 0);
    }
    BOOST_TEST(read_file(target) == "theirs");
}

BOOST_AUTO_TEST_CASE(a_moved_set_owns_the_files)
{
    TempDir base;
    std::string path;
    {
        FileSet first({base.path().string()});
        path = first.write("A", secret("a")).value();
        FileSet second(std::move(first));
    } // `second` removed them; `first` had nothing left to remove
    BOOST_TEST(!fs::exists(path));
    BOOST_TEST(list_dir(base.path()).empty());
}

BOOST_AUTO_TEST_SUITE_END()
