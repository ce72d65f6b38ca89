// Expected values were checked against dotenv v16's parse() under Node 20.
#include "config/dotenv.hpp"
#include "config/js_text.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <vector>

using namespace secrun;
using namespace std::string_literals;

namespace {

struct Values : std::map<std::string, std::string> {
    using map::map;
};

struct Parsed {
    Values values;
    std::string errors; // one line each
};

Parsed parse(std::string_view text)
{
    Errors errors;
    const SecretMap map = config::parse_dotenv(text, "f", errors);
    Parsed p;
    for (const auto& [key, value] : map)
        p.values.emplace(key, std::string(value.reveal()));
    for (const Error& e : errors) {
        BOOST_TEST((e.code == Errc::config));
        p.errors += e.message + "\n";
    }
    return p;
}

// Parses text that must be free of errors.
Values values_of(std::string_view text)
{
    Parsed p = parse(text);
    BOOST_TEST(p.errors == "");
    return p.values;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dotenv)

BOOST_AUTO_TEST_CASE(reads_key_value_forms)
{
    BOOST_TEST(values_of("A=1\nB = two\n  C  =  three  \nexport D=4\nE: five\nexport\tF=6\nexport=7\n") ==
               (Values{{"A", "1"}, {"B", "two"}, {"C", "three"}, {"D", "4"}, {"E", "five"}, {"F", "6"},
                       {"export", "7"}}));
    BOOST_TEST(values_of("A: x\nB:\ty\nC:  spaced  \n") ==
               (Values{{"A", "x"}, {"B", "y"}, {"C", "spaced"}}));
    BOOST_TEST(values_of("export = 5\n") == (Values{{"export", "5"}}));
}

BOOST_AUTO_TEST_CASE(keys_use_dotenvs_characters)
{
    BOOST_TEST(values_of("a.b-c_D9=1\n1X=2\n.=3\n-=4\n") ==
               (Values{{"a.b-c_D9", "1"}, {"1X", "2"}, {".", "3"}, {"-", "4"}}));
}

BOOST_AUTO_TEST_CASE(expands_newline_escapes_in_double_quotes_only)
{
    BOOST_TEST(values_of("S='single \\n $X \"d\"'\n"
                         "D=\"double \\n \\r $X 'q' \\\" \\\\n\"\n"
                         "B=`back \\n \"d\" 's'`\n") ==
               (Values{{"S", "single \\n $X \"d\""},
                       {"D", "double \n \r $X 'q' \\\" \\\n"},
                       {"B", "back \\n \"d\" 's'"}}));
    // Other backslashes stay as they are, unquoted values are never expanded.
    BOOST_TEST(values_of("A=a\\nb\nB=\"a\\\\nb\"\nC=\"\\t\\x\"\nD='\\n'\n") ==
               (Values{{"A", "a\\nb"}, {"B", "a\\\nb"}, {"C", "\\t\\x"}, {"D", "\\n"}}));
}

BOOST_AUTO_TEST_CASE(quoted_values_may_span_lines)
{
    BOOST_TEST(values_of("M=\"line1\nline2\n  line3\"\nS='a\n#not comment\nb'\nB=`x\ny`\nN=after\n") ==
               (Values{{"M", "line1\nline2\n  line3"}, {"S", "a\n#not comment\nb"}, {"B", "x\ny"},
                       {"N", "after"}}));
}

BOOST_AUTO_TEST_CASE(strips_comments_after_values_and_comment_lines)
{
    BOOST_TEST(values_of("# full line\nA=value # comment\nB=\"quoted # kept\" # comment\nC='x'#c\n"
                         "D= # only comment\n  # indented comment\nE=x\t# tab comment\n") ==
               (Values{{"A", "value"}, {"B", "quoted # kept"}, {"C", "x"}, {"D", ""}, {"E", "x"}}));
}

BOOST_AUTO_TEST_CASE(keeps_bytes_exact_without_expansion)
{
    BOOST_TEST(values_of("A=p@ss=w$rd!\nB=${HOME}/x\nC=caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\n"
                         "D=a  b\t c\nE=it's \"fine\"\nF=\"${X:-y}\"\nG=a\"b\n") ==
               (Values{{"A", "p@ss=w$rd!"},
                       {"B", "${HOME}/x"},
                       {"C", "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC"},
                       {"D", "a  b\t c"},
                       {"E", "it's \"fine\""},
                       {"F", "${X:-y}"},
                       {"G", "a\"b"}}));
    BOOST_TEST(values_of("A=\"  padded  \"\nB='  p  '\n") ==
               (Values{{"A", "  padded  "}, {"B", "  p  "}}));
}

BOOST_AUTO_TEST_CASE(reads_empty_values)
{
    BOOST_TEST(values_of("A=\nB= \nC=\"\"\nD=''\nE=``\nF= # c\n") ==
               (Values{{"A", ""}, {"B", ""}, {"C", ""}, {"D", ""}, {"E", ""}, {"F", ""}}));
}

BOOST_AUTO_TEST_CASE(trims_unicode_white_space_as_javascript_does)
{
    BOOST_TEST(values_of("A=\xC2\xA0x\xE3\x80\x80\n") == (Values{{"A", "x"}}));
}

BOOST_AUTO_TEST_CASE(knows_javascripts_white_space_and_line_ends)
{
    using namespace config;
    BOOST_TEST(js::space_at(" x", 0) == 1u);
    BOOST_TEST(js::space_at("\v", 0) == 1u);
    BOOST_TEST(js::space_at("\xC2\xA0", 0) == 2u);     // U+00A0
    BOOST_TEST(js::space_at("\xE1\x9A\x80", 0) == 3u); // U+1680
    BOOST_TEST(js::space_at("\xE2\x80\x8A", 0) == 3u); // U+200A
    BOOST_TEST(js::space_at("\xE2\x80\x8B", 0) == 0u); // U+200B is not white space
    BOOST_TEST(js::space_at("\xE2\x81\x9F", 0) == 3u); // U+205F
    BOOST_TEST(js::space_at("\xEF\xBB\xBF", 0) == 3u); // U+FEFF
    BOOST_TEST(js::space_at("\xC2\x85", 0) == 0u);     // U+0085 is not
    BOOST_TEST(js::space_at("x", 5) == 0u);
    BOOST_TEST(js::terminator_at("\xE2\x80\xA9", 0) == 3u);
    BOOST_TEST(js::terminator_at(" ", 0) == 0u);
    BOOST_TEST(js::trim("\xEF\xBB\xBF a b\xE3\x80\x80\t") == "a b");
    BOOST_TEST(js::trim(" \xC2\xA0 ") == "");
    BOOST_TEST(js::space_ends_at("a\xC2\xA0", 3));
    BOOST_TEST(!js::space_ends_at("a\xC2\xA0", 1));
}

BOOST_AUTO_TEST_CASE(turns_crlf_and_cr_into_lf)
{
    BOOST_TEST(values_of("A=1\r\nB=\"x\r\ny\"\r\nC=3\rD=4\r") ==
               (Values{{"A", "1"}, {"B", "x\ny"}, {"C", "3"}, {"D", "4"}}));
    // Line numbers still count CRLF as one line end.
    BOOST_TEST(parse("A=1\r\nFOO\r\n").errors == "f:2:4: expected '=' after the variable name\n");
}

BOOST_AUTO_TEST_CASE(skips_a_byte_order_mark)
{
    BOOST_TEST(values_of("\xEF\xBB\xBF"
                         "A=1\n") == (Values{{"A", "1"}}));
    BOOST_TEST(parse("\xEF\xBB\xBF"
                     "FOO\n")
                   .errors == "f:1:4: expected '=' after the variable name\n");
}

BOOST_AUTO_TEST_CASE(later_keys_win)
{
    BOOST_TEST(values_of("A=1\nA=2\n") == (Values{{"A", "2"}}));
}

BOOST_AUTO_TEST_CASE(follows_dotenv_where_its_expression_spans_lines)
{
    // An empty value followed by a quoted line takes that line, and '=' may
    // follow the key on the next line: dotenv reads these, and so do we.
    BOOST_TEST(values_of("A=\n\"x\"\n") == (Values{{"A", "x"}}));
    BOOST_TEST(values_of("A\n=value\n") == (Values{{"A", "value"}}));
    BOOST_TEST(values_of("A:\nvalue\n") == (Values{{"A", "value"}}));
}

BOOST_AUTO_TEST_CASE(ends_quoted_values_where_dotenvs_backtracking_does)
{
    // \" does not end the value and stays as written...
    BOOST_TEST(values_of("A=\"a\\\"b\"\n") == (Values{{"A", "a\\\"b"}}));
    // ...unless no later quote closes it: then the escaped quote does.
    BOOST_TEST(values_of("A=\"abc\\\" # c\n") == (Values{{"A", "abc\\"}}));
}

BOOST_AUTO_TEST_CASE(reports_lines_dotenv_would_skip)
{
    auto p = parse("A=1\nFOO\nB=2\nFOO bar\n=x\n$X=1\nexport FOO\nKEY:value\n  # a comment\n\n");
    BOOST_TEST(p.errors == "f:2:4: expected '=' after the variable name\n"
                           "f:4:5: expected '=' after the variable name\n"
                           "f:5:1: missing variable name before '='\n"
                           "f:6:1: expected a variable name (letters, digits, '_', '.' and '-')\n"
                           "f:7:11: expected '=' after the variable name\n"
                           "f:8:4: expected '=' after the variable name\n");
    BOOST_TEST(p.values.empty()); // nothing from a file with errors
}

BOOST_AUTO_TEST_CASE(reports_a_hash_glued_to_an_unquoted_value)
{
    auto p = parse("A=abc#def\nB=#x\nC=ok # fine\nD=\"q\"#fine\nE: #fine\n");
    BOOST_TEST(p.errors == "f:1:6: '#' without white space before it starts a comment "
                           "(quote the value if '#' belongs to it)\n"
                           "f:2:3: '#' without white space before it starts a comment "
                           "(quote the value if '#' belongs to it)\n");
    BOOST_TEST(values_of("C=ok # fine\nD=\"q\"#fine\nE: #fine\nF=\"a#b\"\n") ==
               (Values{{"C", "ok"}, {"D", "q"}, {"E", ""}, {"F", "a#b"}}));
}

BOOST_AUTO_TEST_CASE(reports_unterminated_quotes_and_text_after_them)
{
    BOOST_TEST(parse("A=\"abc\nB='x\n").errors == "f:1:3: unterminated double-quoted value\n"
                                                 "f:2:3: unterminated single-quoted value\n");
    BOOST_TEST(parse("C=\"abc\" def\nD=`x` y\n").errors ==
               "f:1:9: unexpected text after the closing quote of a double-quoted value\n"
               "f:2:7: unexpected text after the closing quote of a back-quoted value\n");
    // The quote closes on a later line and text follows it there.
    BOOST_TEST(parse("M=\"line1\nline2\" tail\nN=1\n").errors ==
               "f:2:8: unexpected text after the closing quote of a double-quoted value\n"
               "f:2:6: expected '=' after the variable name\n");
}

BOOST_AUTO_TEST_CASE(refuses_nul_bytes_and_invalid_utf8)
{
    BOOST_TEST(parse("A=1\nB=x\0y\nC=\0\n"s).errors == "f:2:4: NUL byte\nf:3:3: NUL byte\n");
    BOOST_TEST(parse("A=\xFF\nB=ok\n").errors == "f:1:3: invalid UTF-8\n");
    BOOST_TEST(parse("A=\xFF\nB=ok\n").values.empty());
}

BOOST_AUTO_TEST_CASE(errors_never_contain_text_from_the_file)
{
    const std::string secret = "hunter2-Zq";
    auto p = parse("PASSWORD=" + secret + "#x\n" + secret + "\n\"" + secret + "\n" + secret +
                   " = x\nK=\"" + secret + "\" " + secret + "\n");
    BOOST_TEST(p.errors != "");
    BOOST_TEST(p.errors.find("hunter2") == std::string::npos, p.errors);
}

BOOST_AUTO_TEST_CASE(the_example_dotenv_shipped_in_docker_parses)
{
    std::ifstream in(std::string(SECRUN_SOURCE_DIR) + "/docker/env.local.example", std::ios::binary);
    BOOST_TEST_REQUIRE(in.good());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Parsed p = parse(text);
    BOOST_TEST(p.errors == "");
    BOOST_TEST(!p.values.empty());
}

BOOST_AUTO_TEST_CASE(reads_nothing_from_an_empty_file)
{
    BOOST_TEST(parse("").values.empty());
    BOOST_TEST(parse("").errors == "");
    BOOST_TEST(parse("# only\n\n   \n").errors == "");
}

BOOST_AUTO_TEST_CASE(stays_linear_on_hostile_files)
{
    // A million blank lines before a bad one: every line start is tried once.
    const std::string blank(1'000'000, '\n');
    BOOST_TEST(parse(blank + "FOO").errors == "f:1000001:4: expected '=' after the variable name\n");
    // Many escaped quotes and no closing one (each could end the value, and
    // each is followed by text).
    std::string escapes = "A=\"";
    for (int i = 0; i < 100'000; ++i)
        escapes += "x\\\"";
    escapes += 'x';
    BOOST_TEST(parse(escapes).errors == "f:1:3: unterminated double-quoted value\n");
    // Many bad lines.
    std::string bad;
    for (int i = 0; i < 50'000; ++i)
        bad += "FOO\n";
    Errors errors;
    (void)config::parse_dotenv(bad, "f", errors);
    BOOST_TEST(errors.size() == 50'000u);
}

BOOST_AUTO_TEST_CASE(never_crashes_and_always_reports_file_line_column)
{
    // Lines shaped like KEY=value from hostile pieces, and some pure noise.
    const std::vector<std::string> keys = {"A", "b.c-d", "export A", "9", "", "$X", "\"K\""};
    const std::vector<std::string> separators = {"=", " = ", ": ", ":", " ", "=="};
    const std::vector<std::string> pieces = {
        "x", " ", "\t", "=", "#", " #", "\"", "'", "`", "\\", "\\\"", "\\n", "$X", "\xC3\xA9",
        "\xC2\xA0", "\xE2\x80\xA8", "\xEF\xBB\xBF", "\xFF", std::string(1, '\0'), "\n", "\r"};
    const std::vector<std::string> line_ends = {"\n", "\r\n", "\r"};
    const std::regex located(R"(^f:[0-9]+:[0-9]+: .+$)");
    std::mt19937 rng(54321);
    const auto pick = [&rng](const std::vector<std::string>& from) -> const std::string& {
        return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
    };
    std::uniform_int_distribution<int> count(0, 4);
    std::size_t values = 0;
    std::size_t errors = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        for (int line = count(rng); line >= 0; --line) {
            if (count(rng) > 0)
                text += pick(keys) + pick(separators);
            for (int i = count(rng); i > 0; --i)
                text += pick(pieces);
            text += pick(line_ends);
        }
        Errors found;
        const SecretMap map = config::parse_dotenv(text, "f", found);
        values += map.size();
        errors += found.size();
        BOOST_TEST_REQUIRE((found.empty() || map.empty()));
        for (const Error& e : found)
            BOOST_TEST_REQUIRE(std::regex_match(e.message, located), e.message);
    }
    BOOST_TEST(values > 300u);
    BOOST_TEST(errors > 1000u);
}

BOOST_AUTO_TEST_SUITE_END()
