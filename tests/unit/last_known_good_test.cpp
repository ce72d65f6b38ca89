#include "cache/last_known_good.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <vector>

using namespace secrun;
using namespace secrun::cache;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
public:
    TempDir()
    {
        std::string pattern = (fs::temp_directory_path() / "secrun-lkg-XXXXXX").string();
        BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir()
    {
        std::error_code ec;
        for (const auto& e : fs::recursive_directory_iterator(path_, ec))
            if (e.is_directory(ec))
                fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    [[nodiscard]] const fs::path& path() const { return path_; }
    [[nodiscard]] std::string file(std::string_view name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

std::string read_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, std::string_view bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    BOOST_TEST_REQUIRE(out.good());
}

std::set<std::string> names_in(const fs::path& dir)
{
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        names.insert(e.path().filename().string());
    return names;
}

EnvMap env_of(EnvMap::Map vars) { return EnvMap(std::move(vars)); }

SecretString secret(std::string_view value) { return SecretString(value); }

std::string hex_of(const CacheKey& key)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : key.bytes()) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

CacheKey key_from_hex(std::string hex)
{
    auto r = cache_key(env_of({{"SECRUN_CACHE_KEY", std::move(hex)}}));
    BOOST_TEST_REQUIRE(r.has_value());
    return *r;
}

const std::string key_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string other_key_hex = "f00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string fingerprint = manifest_fingerprint("DB=aws_secrets://prod/db\n");
const auto t0 = std::chrono::system_clock::time_point(1'700'000'000s);

std::vector<CachedEntry> sample_entries()
{
    std::vector<CachedEntry> entries;
    entries.push_back({"DB_PASSWORD", secret("correct horse\nbattery $staple 'q' \"dq\""), "aws_secrets",
                       "prod/db", "v-123"});
    entries.push_back({"BINARY", secret(std::string("a\0b\0\0c", 6)), "doppler", "muse/prd", ""});
    entries.push_back({"UNICODE", secret("pässwörd ✓ 鍵 🔑"), "env", "environment", ""});
    entries.push_back({"EMPTY", secret(""), "env", "", ""});
    return entries;
}

void check_same(const std::vector<CachedEntry>& got, const std::vector<CachedEntry>& want)
{
    BOOST_TEST_REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST(got[i].name == want[i].name);
        BOOST_TEST((got[i].value == want[i].value));
        BOOST_TEST(got[i].value.size() == want[i].value.size());
        BOOST_TEST(got[i].backend == want[i].backend);
        BOOST_TEST(got[i].source == want[i].source);
        BOOST_TEST(got[i].version == want[i].version);
    }
}

// Runs `attempt` with the privileges of nobody when the tests run as root
// (root ignores file and directory permissions) and returns its result.
std::string as_nobody(const std::function<std::string()>& attempt)
{
    if (::geteuid() != 0)
        return attempt();
    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(2);
        const std::string message = attempt();
        const bool ok = ::write(fds[1], message.data(), message.size()) == static_cast<ssize_t>(message.size());
        ::_exit(ok ? 0 : 3);
    }
    ::close(fds[1]);
    std::string message;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        message.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST_REQUIRE(WIFEXITED(status));
    BOOST_TEST_REQUIRE(WEXITSTATUS(status) == 0);
    return message;
}

// Lets nobody reach files under `dir` (mkdtemp makes it 0700).
void open_to_others(const fs::path& dir)
{
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

} // namespace

BOOST_AUTO_TEST_SUITE(last_known_good)

// ---- round trip and file properties -------------------------------------------

BOOST_AUTO_TEST_CASE(round_trip_is_byte_exact)
{
    TempDir dir;
    const std::string path = dir.file("app.lkg");
    const CacheKey key = key_from_hex(key_hex);
    BOOST_TEST_REQUIRE(store(path, key, fingerprint, sample_entries(), t0).has_value());

    auto loaded = load(path, key, fingerprint, 1h, t0 + 95s);
    BOOST_TEST_REQUIRE(loaded.has_value());
    check_same(loaded->entries, sample_entries());
    BOOST_TEST(loaded->age.count() == 95);
}

BOOST_AUTO_TEST_CASE(round_trip_of_an_empty_set)
{
    TempDir dir;
    const std::string path = dir.file("app.lkg");
    const CacheKey key = key_from_hex(key_hex);
    BOOST_TEST_REQUIRE(store(path, key, fingerprint, {}, t0).has_value());
    auto loaded = load(path, key, fingerprint, 1h, t0);
    BOOST_TEST_REQUIRE(loaded.has_value());
    BOOST_TEST(loaded->entries.empty());
    BOOST_TEST(loaded->age.count() == 0);
}

BOOST_AUTO_TEST_CASE(file_is_mode_0600_whatever_the_umask_and_no_temp_file_is_left)
{
    for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
        TempDir dir;
        const std::string path = dir.file("app.lkg");
        const mode_t old = ::umask(mask);
        auto r = store(path, key_from_hex(key_hex), fingerprint, sample_entries(), t0);
        ::umask(old);
        BOOST_TEST_REQUIRE(r.has_value());
        struct stat st {};
        BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
        BOOST_TEST((st.st_mode & 07777) == 0600u);
        BOOST_TEST(names_in(dir.path()) == std::set<std::string>{"app.lkg"});
    }
}

BOOST_AUTO_TEST_CASE(store_replaces_the_previous_file)
{
    TempDir dir;
    const std::string path = dir.file("app.lkg");
    const CacheKey key = key_from_hex(key_hex);
    BOOST_TEST_REQUIRE(store(path, key, fingerprint, sample_entries(), t0).has_value());
    std::vector<CachedEntry> newer;
    newer.push_back({"DB_PASSWORD", secret("rotated"), "aws_secrets", "prod/db", "v-124"});
    BOOST_TEST_REQUIRE(store(path, key, fingerprint, newer, t0 + 60s).has_value());

    auto loaded = load(path, key, fingerprint, 1h, t0 + 70s);
    BOOST_TEST_REQUIRE(loaded.has_value());
    check_same(loaded->entries, newer);
    BOOST_TEST(loaded->age.count() == 10);
    BOOST_TEST(names_in(dir.path()) == std::set<std::string>{"app.lkg"});
}

BOOST_AUTO_TEST_CASE(two_writes_of_the_same_set_use_fresh_nonces)
{
    TempDir dir;
    const CacheKey key = key_from_hex(key_hex);
    BOOST_TEST_REQUIRE(store(dir.file("a"), key, fingerprint, sample_entries(), t0).has_value());
    BOOST_TEST_REQUIRE(store(dir.file("b"), key, fingerprint, sample_entries(), t0).has_value());
    const std::string a = read_bytes(dir.file("a"));
    const std::string b = read_bytes(dir.file("b"));
    BOOST_TEST(a.size() == b.size());
    BOOST_TEST(a.substr(7, 12) != b.substr(7, 12));
    BOOST_TEST(a.substr(19) != b.substr(19));
}

BOOST_AUTO_TEST_CASE(no_plaintext_appears_in_the_file)
{
    TempDir dir;
    const std::string path = dir.file("app.lkg");
    std::vector<CachedEntry> entries;
    entries.push_back({"PLAINTEXT_NAME_ONE", secret("very-distinctive-secret-value-1"), "env", "src-one", "ver-one"});
    entries.push_back({"PLAINTEXT_NAME_TWO", secret("another\nmultiline\nsecret"), "doppler", "muse/prd", ""});
    BOOST_TEST_REQUIRE(store(path, key_from_hex(key_hex), fingerprint, entries, t0).has_value());

    const std::string bytes = read_bytes(path);
    BOOST_TEST(bytes.substr(0, 7) == std::string("SRLKG1\x01"));
    for (std::string_view needle : {"very-distinctive", "secret-value", "multiline", "PLAINTEXT_NAME", "src-one",
                                    "ver-one", "muse/prd", "doppler"})
        BOOST_TEST(bytes.find(needle) == std::string::npos, needle);
    BOOST_TEST(bytes.find(fingerprint) == std::string::npos);
    BOOST_TEST(bytes.find(fingerprint.substr(0, 16)) == std::string::npos);
}

// A file built by an independent implementation (Python `cryptography`,
// AESGCM) from the layout documented in the header: key 00..1f, nonce 64..6f,
// written at 1700000000, fingerprint "fp-1", one entry.
BOOST_AUTO_TEST_CASE(reads_a_file_written_from_the_documented_layout)
{
    static constexpr std::string_view hex =
        "53524c4b4731016465666768696a6b6c6d6e6f481bde661cbaa79e3e625fecbc1547cc42c2060b8b6cf379e393f318"
        "baf0f61fdbbb04c04c129c77ce900a0c8948cacf1b58fd89564a4128f194c2a086f3cae465e9b57ad64b3b07fd5e23"
        "47b5619609cc9c34530c1160e9e1f3";
    std::string bytes;
    for (std::size_t i = 0; i < hex.size(); i += 2)
        bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    TempDir dir;
    const std::string path = dir.file("python.lkg");
    write_bytes(path, bytes);

    auto loaded = load(path, key_from_hex(key_hex), "fp-1", 1h, t0 + 42s);
    BOOST_TEST_REQUIRE(loaded.has_value());
    std::vector<CachedEntry> want;
    want.push_back({"DB_PASSWORD", secret("s3cr3t\n"), "env", "environment", "v1"});
    check_same(loaded->entries, want);
    BOOST_TEST(loaded->age.count() == 42);
}

// ---- store failures --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(read_only_directory_fails_and_keeps_the_old_file)
{
    TempDir dir;
    open_to_others(dir.path());
    const fs::path ro = dir.path() / "ro";
    fs::create_directory(ro);
    const std::string path = (ro / "app.lkg").string();
    const CacheKey key = key_from_hex(key_hex);
    std::vector<CachedEntry> old;
    old.push_back({"DB_PASSWORD", secret("old value"), "env", "environment", ""});
    BOOST_TEST_REQUIRE(store(path, key, fingerprint, old, t0).has_value());
    const std::string old_bytes = read_bytes(path);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                            fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);

    BOOST_TEST(as_nobody([&] {
                   auto r = store(path, key, fingerprint, sample_entries(), t0);
                   return r ? std::string("stored") : r.error().message;
               }) ==
               "cannot write cache '" + path + "': cannot create a temporary file in '" + ro.string() +
                   "': Permission denied");
    BOOST_TEST(read_bytes(path) == old_bytes);
    BOOST_TEST(names_in(ro) == std::set<std::string>{"app.lkg"});
    auto loaded = load(path, key, fingerprint, 1h, t0);
    BOOST_TEST_REQUIRE(loaded.has_value());
    check_same(loaded->entries, old);
}

BOOST_AUTO_TEST_CASE(missing_directory_is_an_io_error)
{
    TempDir dir;
    const std::string path = dir.file("nope/app.lkg");
    auto r = store(path, key_from_hex(key_hex), fingerprint, sample_entries(), t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == Errc::io));
    BOOST_TEST(r.error().message == "cannot write cache '" + path + "': cannot create a temporary file in '" +
                                        dir.file("nope") + "': No such file or directory");
}

BOOST_AUTO_TEST_CASE(failed_rename_removes_the_temporary_file)
{
    // The target is a non-empty directory: the temporary file is written and
    // synced, then rename() fails; it must not be left behind.
    TempDir dir;
    const std::string path = dir.file("target");
    fs::create_directory(path);
    write_bytes(dir.file("target/keep"), "x");
    auto r = store(path, key_from_hex(key_hex), fingerprint, sample_entries(), t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "cannot write cache '" + path + "': rename failed: Is a directory");
    BOOST_TEST(names_in(dir.path()) == std::set<std::string>{"target"});
    BOOST_TEST(names_in(path) == std::set<std::string>{"keep"});
}

BOOST_AUTO_TEST_CASE(refuses_to_write_more_than_the_load_limit)
{
    TempDir dir;
    const std::string path = dir.file("app.lkg");
    std::vector<CachedEntry> entries;
    entries.push_back({"BIG", secret(std::string(max_file_size, 'x')), "env", "", ""});
    auto r = store(path, key_from_hex(key_hex), fingerprint, entries, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    const std::size_t total = 35 + 8 + 4 + fingerprint.size() + 4 + 20 + 3 + max_file_size + 3;
    BOOST_TEST(r.error().message == "cannot write cache '" + path + "': the resolved set is too large (" +
                                        std::to_string(total) + " bytes, at most 4194304)");
    BOOST_TEST(names_in(dir.path()).empty());
}

// ---- load rejections, word for word ------------------------------------------------

struct StoredFixture {
    TempDir dir;
    std::string path = dir.file("app.lkg");
    CacheKey key = key_from_hex(key_hex);
    std::string bytes;
    StoredFixture()
    {
        BOOST_TEST_REQUIRE(store(path, key, fingerprint, sample_entries(), t0).has_value());
        bytes = read_bytes(path);
    }
    [[nodiscard]] std::string name() const { return "cache '" + path + "'"; }
    [[nodiscard]] std::string load_error(std::chrono::seconds max_age = 1h,
                                         std::chrono::system_clock::time_point now = t0) const
    {
        auto r = load(path, key, fingerprint, max_age, now);
        if (!r)
            return r.error().message;
        return "loaded";
    }
};

BOOST_FIXTURE_TEST_CASE(missing_file_is_not_found, StoredFixture)
{
    const std::string missing = dir.file("missing.lkg");
    auto r = load(missing, key, fingerprint, 1h, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == Errc::not_found));
    BOOST_TEST(r.error().message == "cache '" + missing + "' does not exist");
}

BOOST_FIXTURE_TEST_CASE(directory_is_not_a_regular_file, StoredFixture)
{
    auto r = load(dir.path().string(), key, fingerprint, 1h, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == Errc::io));
    BOOST_TEST(r.error().message == "cache '" + dir.path().string() + "' is not a regular file");
}

BOOST_FIXTURE_TEST_CASE(fifo_is_refused_without_blocking, StoredFixture)
{
    const std::string fifo = dir.file("fifo");
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = load(fifo, key, fingerprint, 1h, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "cache '" + fifo + "' is not a regular file");
}

BOOST_FIXTURE_TEST_CASE(unreadable_file_names_the_errno, StoredFixture)
{
    open_to_others(dir.path());
    BOOST_TEST(as_nobody([&] {
                   auto r = load(path, key, fingerprint, 1h, t0);
                   return r ? std::string("loaded") : r.error().message;
               }) == "cannot read " + name() + ": Permission denied");
}

BOOST_FIXTURE_TEST_CASE(too_large_file, StoredFixture)
{
    write_bytes(path, std::string(max_file_size + 1, 'S'));
    BOOST_TEST(load_error() == name() + " is too large (4194305 bytes, at most 4194304)");
}

BOOST_FIXTURE_TEST_CASE(other_file_is_not_a_cache, StoredFixture)
{
    write_bytes(path, "DB_PASSWORD=hunter2\n");
    BOOST_TEST(load_error() == name() + " is not a secrun cache file");
}

BOOST_FIXTURE_TEST_CASE(flipping_any_byte_is_detected, StoredFixture)
{
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::string flipped = bytes;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        write_bytes(path, flipped);
        std::string want;
        if (i < 6)
            want = name() + " is not a secrun cache file";
        else if (i == 6)
            want = name() + " has format version 0; this secrun reads version 1";
        else
            want = name() + " failed authentication: tampered with, truncated, or written with another key";
        BOOST_TEST(load_error() == want, "byte " << i);
    }
}

BOOST_FIXTURE_TEST_CASE(truncating_anywhere_is_detected, StoredFixture)
{
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        write_bytes(path, bytes.substr(0, n));
        const std::string want =
            n < 35 ? name() + " is truncated (" + std::to_string(n) + " bytes)"
                   : name() + " failed authentication: tampered with, truncated, or written with another key";
        BOOST_TEST(load_error() == want, "length " << n);
    }
}

BOOST_FIXTURE_TEST_CASE(appended_bytes_fail_authentication, StoredFixture)
{
    write_bytes(path, bytes + '\0');
    BOOST_TEST(load_error() ==
               name() + " failed authentication: tampered with, truncated, or written with another key");
}

BOOST_FIXTURE_TEST_CASE(wrong_key_fails_authentication, StoredFixture)
{
    auto r = load(path, key_from_hex(other_key_hex), fingerprint, 1h, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == Errc::io));
    BOOST_TEST(r.error().message ==
               name() + " failed authentication: tampered with, truncated, or written with another key");
}

BOOST_FIXTURE_TEST_CASE(changed_manifest_is_refused, StoredFixture)
{
    auto r = load(path, key, manifest_fingerprint("DB=aws_secrets://prod/db2\n"), 1h, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message ==
               name() + " is not for this manifest: the manifest changed since the cache was written");
}

BOOST_FIXTURE_TEST_CASE(too_old_is_refused_and_the_limit_is_inclusive, StoredFixture)
{
    BOOST_TEST(load_error(1h, t0 + 3h + 12min + 5s) ==
               name() + " is 3h12m old, older than --cache-max-age 1h");
    BOOST_TEST(load_error(90s, t0 + 91s) == name() + " is 1m31s old, older than --cache-max-age 1m30s");
    BOOST_TEST(load_error(90s, t0 + 90s) == "loaded");
    BOOST_TEST(load_error(0s, t0 + 1s) == name() + " is 1s old, older than --cache-max-age 0s");
}

BOOST_FIXTURE_TEST_CASE(future_write_time_is_refused_beyond_the_skew, StoredFixture)
{
    BOOST_TEST(load_error(1h, t0 - 2h) == name() + " was written 2h in the future; check the system clock");
    BOOST_TEST(load_error(1h, t0 - 301s) == name() + " was written 5m1s in the future; check the system clock");
    auto within = load(path, key, fingerprint, 1h, t0 - 300s);
    BOOST_TEST_REQUIRE(within.has_value());
    BOOST_TEST(within->age.count() == 0);
}

// ---- keys ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_derived_key_opens_only_its_own_cache)
{
    TempDir dir;
    const std::string path = dir.file("app.lkg");
    const CacheKey first = *cache_key(env_of({{"DOPPLER_TOKEN", "dp.st.one"}}));
    const CacheKey rotated = *cache_key(env_of({{"DOPPLER_TOKEN", "dp.st.two"}}));
    BOOST_TEST(hex_of(first) != hex_of(rotated));
    BOOST_TEST_REQUIRE(store(path, first, fingerprint, sample_entries(), t0).has_value());
    BOOST_TEST(load(path, first, fingerprint, 1h, t0).has_value());
    auto r = load(path, rotated, fingerprint, 1h, t0);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message == "cache '" + path +
                                        "' failed authentication: tampered with, truncated, or written with another key");
}

// ---- fingerprint and ages --------------------------------------------------------

BOOST_AUTO_TEST_CASE(fingerprint_is_sha256_hex)
{
    BOOST_TEST(manifest_fingerprint("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(manifest_fingerprint("A=env://a\n") ==
               "0c82d5c6f4ab92b2fe83a88118b0725e02aae855260fde8240ab66bc386168ea");
}

BOOST_AUTO_TEST_CASE(ages_print_in_two_units)
{
    const std::pair<std::int64_t, std::string_view> cases[] = {
        {-5, "0s"},     {0, "0s"},        {45, "45s"},      {59, "59s"},     {60, "1m"},
        {200, "3m20s"}, {3599, "59m59s"}, {3600, "1h"},     {11520, "3h12m"}, {11525, "3h12m"},
        {86399, "23h59m"}, {86400, "1d"}, {187200, "2d4h"}, {34560000, "400d"},
    };
    for (const auto& [seconds, want] : cases)
        BOOST_TEST(format_age(std::chrono::seconds(seconds)) == want, seconds);
}

BOOST_AUTO_TEST_SUITE_END()
