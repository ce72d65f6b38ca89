#include "manifest/manifest.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;
using namespace secrun;
using manifest::Entry;

namespace {

const fs::path manifests_dir = fs::path(SECRUN_SOURCE_DIR) / "tests" / "data" / "manifests";

std::string read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string escape(std::string_view s)
{
    std::string out;
    for (const char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

// One line per entry: NAME ref=<canonical> [optional] [default="..."] [file[=PATH]] @ORIGIN
std::string describe(const std::vector<Entry>& entries)
{
    std::string out;
    for (const Entry& e : entries) {
        out += e.name + " ref=" + e.ref.to_string();
        if (e.optional)
            out += " optional";
        if (e.default_value)
            out += " default=\"" + escape(*e.default_value) + "\"";
        if (e.file.enabled)
            out += e.file.path.empty() ? " file" : " file=" + e.file.path;
        out += " @" + e.origin + "\n";
    }
    return out;
}

std::string join(const Errors& errors)
{
    std::string out;
    for (const Error& e : errors)
        out += e.message + "\n";
    return out;
}

// The *.manifest files of a folder, sorted, each with its .expected beside it.
std::vector<fs::path> cases_in(const fs::path& dir)
{
    std::vector<fs::path> cases;
    for (const auto& item : fs::directory_iterator(dir)) {
        if (item.path().extension() == ".manifest")
            cases.push_back(item.path());
    }
    std::sort(cases.begin(), cases.end());
    return cases;
}

struct Parsed {
    manifest::Manifest m;
    Errors errors;
};

Parsed parse(std::string_view text)
{
    Parsed p;
    p.m = manifest::parse(text, "m", p.errors);
    return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(manifest_parser)

BOOST_AUTO_TEST_CASE(good_manifests_give_the_expected_entries)
{
    const auto cases = cases_in(manifests_dir / "ok");
    BOOST_TEST_REQUIRE(cases.size() >= 5u, "test data missing in " << manifests_dir);
    for (const fs::path& file : cases) {
        BOOST_TEST_CONTEXT(file.filename().string())
        {
            Errors errors;
            const auto m = manifest::parse(read_file(file), file.filename().string(), errors);
            BOOST_TEST(join(errors) == "");
            BOOST_TEST(m.file_name == file.filename().string());
            fs::path expected = file;
            BOOST_TEST(describe(m.entries) == read_file(expected.replace_extension(".expected")));
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_manifests_give_the_expected_errors_word_for_word)
{
    const auto cases = cases_in(manifests_dir / "bad");
    BOOST_TEST_REQUIRE(cases.size() >= 7u, "test data missing in " << manifests_dir);
    for (const fs::path& file : cases) {
        BOOST_TEST_CONTEXT(file.filename().string())
        {
            Errors errors;
            (void)manifest::parse(read_file(file), file.filename().string(), errors);
            fs::path expected = file;
            BOOST_TEST(join(errors) == read_file(expected.replace_extension(".expected")));
            for (const Error& e : errors)
                BOOST_TEST((e.code == Errc::manifest));
        }
    }
}

BOOST_AUTO_TEST_CASE(the_example_manifest_shipped_in_docker_parses)
{
    Errors errors;
    const auto m = manifest::parse(read_file(fs::path(SECRUN_SOURCE_DIR) / "docker" / "example.manifest"),
                                   "example.manifest", errors);
    BOOST_TEST(join(errors) == "");
    BOOST_TEST(!m.entries.empty());
}

BOOST_AUTO_TEST_CASE(reports_unknown_backend_with_column)
{
    auto p = parse("DB = aws_secret://prod/db\n");
    BOOST_TEST(join(p.errors) == "m:1:6: unknown backend 'aws_secret' (did you mean 'aws_secrets'?)\n");
    BOOST_TEST(p.m.entries.empty());
}

BOOST_AUTO_TEST_CASE(keeps_good_entries_next_to_bad_ones)
{
    auto p = parse("A = k\nB = dopler://x\nC\n");
    BOOST_TEST(p.errors.size() == 1u);
    BOOST_TEST(describe(p.m.entries) == "A ref=k @m:1\nC ref=C @m:3\n");
}

BOOST_AUTO_TEST_CASE(a_name_alone_uses_the_name_as_key_in_the_configured_backend)
{
    auto p = parse("CH_HOST\n");
    BOOST_TEST_REQUIRE(p.m.entries.size() == 1u);
    const Entry& e = p.m.entries[0];
    BOOST_TEST(e.name == "CH_HOST");
    BOOST_TEST(e.ref.backend == "");
    BOOST_TEST(e.ref.key == "CH_HOST");
    BOOST_TEST(e.ref.field == "");
    BOOST_TEST(!e.optional);
    BOOST_TEST(!e.default_value.has_value());
    BOOST_TEST(!e.file.enabled);
    BOOST_TEST(e.origin == "m:1");
    BOOST_TEST(!e.from_environment);
}

BOOST_AUTO_TEST_CASE(hash_starts_a_comment_only_at_the_start_of_a_token)
{
    auto p = parse("DB_USER = aws_secrets://prod/db#username   # comment\n"
                   "A = k #field-looking comment\n"
                   "B = k#f#g\n"
                   "#C = k\n"
                   "D = k default=\"# quoted\" # comment\n");
    BOOST_TEST(join(p.errors) == "");
    BOOST_TEST(describe(p.m.entries) == "DB_USER ref=aws_secrets://prod/db#username @m:1\n"
                                        "A ref=k @m:2\n"
                                        "B ref=k#f#g @m:3\n"
                                        "D ref=k optional default=\"# quoted\" @m:5\n");
}

BOOST_AUTO_TEST_CASE(accepts_crlf_line_ends)
{
    auto p = parse("A = k\r\nB = dopler://x\r\nC optional\r\n");
    BOOST_TEST(join(p.errors) == "m:2:5: unknown backend 'dopler' (did you mean 'doppler'?)\n");
    BOOST_TEST(describe(p.m.entries) == "A ref=k @m:1\nC ref=C optional @m:3\n");
}

BOOST_AUTO_TEST_CASE(skips_a_byte_order_mark_at_the_start)
{
    auto p = parse("\xEF\xBB\xBF"
                   "A = k\n");
    BOOST_TEST(join(p.errors) == "");
    BOOST_TEST(describe(p.m.entries) == "A ref=k @m:1\n");
    auto bad = parse("\xEF\xBB\xBF"
                     "9 = k\n");
    BOOST_TEST(join(bad.errors) ==
               "m:1:1: invalid variable name '9' (letters, digits and '_', not starting with a digit)\n");
    // Only at the start: elsewhere it is text like any other.
    auto later = parse("A = k\n\xEF\xBB\xBF"
                       "B = k\n");
    BOOST_TEST(join(later.errors) == "m:2:1: invalid variable name '\xEF\xBB\xBF"
                                     "B' (letters, digits and '_', not starting with a digit)\n");
}

BOOST_AUTO_TEST_CASE(refuses_nul_bytes_control_characters_and_invalid_utf8)
{
    using namespace std::string_literals;
    auto p = parse("A = k\0x\n"s
                   "B = k\x01\n"
                   "C = k\rD = k\n"
                   "E = \xFF\n"
                   "F = k default=\"\xC3\xA9\x7F\"\n"
                   "G = k\n");
    BOOST_TEST(join(p.errors) == "m:1:6: NUL byte\n"
                                 "m:2:6: control character '\\x01'\n"
                                 "m:3:6: control character '\\x0d'\n"
                                 "m:4:5: invalid UTF-8\n"
                                 "m:5:17: control character '\\x7f'\n");
    BOOST_TEST(describe(p.m.entries) == "G ref=k @m:6\n");
}

BOOST_AUTO_TEST_CASE(counts_columns_in_code_points)
{
    auto p = parse("A = k default=\"\xC3\xA9\xC3\xA9\" bogus\n");
    BOOST_TEST(join(p.errors) == "m:1:20: unknown option 'bogus'\n");
}

BOOST_AUTO_TEST_CASE(refuses_lines_longer_than_the_bound)
{
    const std::string long_default(manifest::max_line_length, 'x');
    auto p = parse("A = k default=" + long_default + "\nB = k\n");
    BOOST_TEST(join(p.errors) == "m:1:1: line is longer than 65536 bytes\n");
    BOOST_TEST(describe(p.m.entries) == "B ref=k @m:2\n");
    // Exactly at the bound is fine.
    const std::string line = "A = k default=" + std::string(manifest::max_line_length - 14, 'x');
    BOOST_TEST(line.size() == manifest::max_line_length);
    BOOST_TEST(parse(line).errors.empty());
}

BOOST_AUTO_TEST_CASE(empty_text_and_last_line_without_newline)
{
    BOOST_TEST(parse("").m.entries.empty());
    BOOST_TEST(parse("").errors.empty());
    BOOST_TEST(describe(parse("A = k").m.entries) == "A ref=k @m:1\n");
    BOOST_TEST(describe(parse("\n\n\nA").m.entries) == "A ref=A @m:4\n");
}

BOOST_AUTO_TEST_CASE(never_crashes_and_always_reports_file_line_column)
{
    // Random lines made of the grammar's pieces and some hostile bytes.
    const std::vector<std::string> pieces = {
        "A", "_b9", "9", " ", "\t", "=", "==", "#", "\"", "'", "\\", "?", "&", "%", "%4", ".", "..",
        "://", "aws_secrets", "aws_secret", "env", "doppler", "azure_keyvault", "stage", "version",
        "optional", "default", "file", "/abs", "x", "\xC3\xA9", "\xFF", std::string(1, '\0'), "\r",
        "\n", "\r\n", "\xEF\xBB\xBF"};
    const std::regex located(R"(^m:[0-9]+:[0-9]+: .+$)");
    std::mt19937 rng(12345);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::uniform_int_distribution<int> length(0, 40);
    std::size_t entries = 0;
    std::size_t errors = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        for (int i = length(rng); i > 0; --i)
            text += pieces[pick(rng)];
        auto p = parse(text);
        entries += p.m.entries.size();
        errors += p.errors.size();
        for (const Error& e : p.errors)
            BOOST_TEST_REQUIRE(std::regex_match(e.message, located), e.message);
        for (const Entry& e : p.m.entries) {
            // Whatever was accepted reads back the same.
            auto again = manifest::parse_reference(e.ref.to_string());
            BOOST_TEST_REQUIRE(again.has_value(), e.ref.to_string());
            BOOST_TEST_REQUIRE((*again == e.ref));
        }
    }
    BOOST_TEST(entries > 100u); // the generator does produce valid lines
    BOOST_TEST(errors > 1000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(environment_references)

BOOST_AUTO_TEST_CASE(turns_inherited_references_into_entries)
{
    EnvMap env(EnvMap::Map{
        {"DB_PASSWORD", "aws_secrets://prod/db#password"},
        {"API_TOKEN", "doppler://API_TOKEN"},
        {"LOCAL", "env://OTHER"},
        {"KV", "azure_keyvault://kv-name?version=abc"},
        {"DATABASE_URL", "postgres://user@db/app"},
        {"VAULT_URL", "https://v.vault.azure.net/secrets/x"},
        {"PLAIN", "hello"},
        {"EMPTY", ""},
        {"UPPER", "AWS_SECRETS://x"},
        {"NOT-POSIX", "aws_secrets://x"},
        {"9NAME", "aws_secrets://x"},
    });
    Errors errors;
    const auto entries = manifest::entries_from_environment(env, errors);
    BOOST_TEST(join(errors) == "");
    BOOST_TEST(describe(entries) == "API_TOKEN ref=doppler://API_TOKEN @environment\n"
                                    "DB_PASSWORD ref=aws_secrets://prod/db#password @environment\n"
                                    "KV ref=azure_keyvault://kv-name?version=abc @environment\n"
                                    "LOCAL ref=env://OTHER @environment\n");
    for (const Entry& e : entries) {
        BOOST_TEST(e.from_environment);
        BOOST_TEST(!e.optional);
    }
}

BOOST_AUTO_TEST_CASE(reports_bad_references_by_variable_name)
{
    EnvMap env(EnvMap::Map{
        {"DB_PASSWORD", "aws_secrets://prod/db#"},
        {"KV", "azure_keyvault://k?stage=X"},
        {"EMPTY_KEY", "env://"},
        {"SPACE", "doppler://A B"},
        {"GOOD", "doppler://A"},
    });
    Errors errors;
    const auto entries = manifest::entries_from_environment(env, errors);
    BOOST_TEST(join(errors) ==
               "environment variable DB_PASSWORD: missing field name after '#'\n"
               "environment variable EMPTY_KEY: missing key after 'env://'\n"
               "environment variable KV: option 'stage' is not supported by backend 'azure_keyvault'\n"
               "environment variable SPACE: invalid character ' ' in reference\n");
    BOOST_TEST(describe(entries) == "GOOD ref=doppler://A @environment\n");
    for (const Error& e : errors)
        BOOST_TEST((e.code == Errc::manifest));
}

BOOST_AUTO_TEST_SUITE_END()
