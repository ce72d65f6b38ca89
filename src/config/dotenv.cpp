// The dotenv package (motdotla/dotenv v16, lib/main.js) parses a file with
// one global, multi-line regular expression:
//
//   (?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|
//   \s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)      /mg
//
// after turning CRLF and CR into LF; each value is then trimmed, stripped of
// surrounding quotes, and "\n" / "\r" are expanded when it was double-quoted.
// Text between two matches is skipped silently.
//
// This file reproduces that regular expression by hand, with JavaScript's
// semantics (\s and trim() include the Unicode spaces and U+FEFF; ^ $ and .
// know U+2028 and U+2029 as line ends; backtracking order decides where a
// quoted value ends), so that every file dotenv reads cleanly gives the same
// values here. Where dotenv silently drops or mangles input, secrun fails
// closed and reports "FILE:LINE:COLUMN: message" instead (a secrets file must
// not be half-read); each such place says "fail closed" below. Messages never
// contain text from the file.
#include "config/dotenv.hpp"

#include "config/js_text.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace secrun::config {

namespace {

constexpr std::size_t npos = std::string_view::npos;

// The text these see has no CR left: it was normalised away first, as
// dotenv does, so LF, U+2028 and U+2029 are the line ends of ^ $ and '.'.
using js::skip_spaces;
using js::space_at;
using js::terminator_at;

bool is_key_char(char c) noexcept // [\w.-]
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

bool is_quote(char c) noexcept { return c == '\'' || c == '"' || c == '`'; }

std::string_view quote_kind(char quote)
{
    return quote == '"' ? "double-quoted" : quote == '\'' ? "single-quoted" : "back-quoted";
}

// value.replace(/^(['"`])([\s\S]*)\1$/mg, '$2'): at each line start that
// is a quote, the text up to the last same quote that ends a line loses both
// quotes. For a quoted value that is the whole value; an unquoted one can
// still hold line starts after U+2028 or U+2029.
std::string strip_quotes(std::string_view v)
{
    // The last quote of each kind that ends a line: the greedy [\s\S]* stops there.
    std::size_t last_close[3] = {npos, npos, npos};
    const auto slot = [](char q) { return q == '\'' ? 0 : q == '"' ? 1 : 2; };
    for (std::size_t j = 0; j < v.size(); ++j) {
        if (is_quote(v[j]) && (j + 1 == v.size() || terminator_at(v, j + 1) != 0))
            last_close[slot(v[j])] = j;
    }
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size();) {
        const bool line_start = i == 0 || (i >= 1 && v[i - 1] == '\n') ||
                                (i >= 3 && terminator_at(v, i - 3) == 3);
        if (line_start && is_quote(v[i])) {
            const std::size_t close = last_close[slot(v[i])];
            if (close != npos && close > i) {
                out.append(v.substr(i + 1, close - i - 1));
                i = close + 1;
                continue;
            }
        }
        out += v[i++];
    }
    return out;
}

// value.replace(/\\n/g, '\n').replace(/\\r/g, '\r'), in place (the two
// patterns cannot overlap, so one pass gives the same result).
void expand_newlines(std::string& value) noexcept
{
    std::size_t out = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size() && (value[i + 1] == 'n' || value[i + 1] == 'r')) {
            value[out++] = value[i + 1] == 'n' ? '\n' : '\r';
            ++i;
        } else {
            value[out++] = value[i];
        }
    }
    cleanse(value.data() + out, value.size() - out);
    value.resize(out);
}

// One match of the regular expression.
struct Match {
    std::size_t key_begin = 0, key_end = 0;
    std::size_t value_begin = 0, value_end = 0; // group 2, untrimmed
    bool quoted = false;
    std::size_t end = 0; // where the match ends (dotenv's lastIndex)
};

// Where a quoted value failed to close, for the fail-closed message.
struct QuoteFailure {
    std::size_t open = npos;         // the opening quote
    std::size_t after_close = npos;  // first text after the (first) closing quote
};

class DotenvParser {
public:
    DotenvParser(std::string_view text, std::string_view file_name, Errors& errors)
        : s_(text), file_name_(file_name), errors_(errors)
    {
        for (std::size_t i = 0; i < s_.size(); ++i) {
            if (s_[i] == '\n')
                line_starts_.push_back(i + 1);
        }
    }

    SecretMap parse()
    {
        SecretMap values;
        if (!check_bytes())
            return values;
        std::size_t gap_begin = 0;
        std::size_t candidate = 0;
        while (candidate != npos) {
            std::size_t resume = candidate;
            const std::optional<Match> match = match_at(candidate, resume);
            if (!match) {
                candidate = next_line_start(resume);
                continue;
            }
            check_gap(gap_begin, candidate);
            add_value(*match, values);
            gap_begin = match->end;
            candidate = is_line_start(match->end) ? match->end : next_line_start(match->end);
        }
        check_gap(gap_begin, s_.size());
        if (errors_.size() != errors_before_)
            values.clear(); // fail closed: nothing from a file with errors
        return values;
    }

private:
    void error(std::size_t offset, std::string_view message)
    {
        const auto line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
        std::size_t column = util::column_at(s_.substr(*line), offset - *line);
        if (*line == 0 && s_.substr(0, 3) == "\xEF\xBB\xBF" && offset >= 3)
            --column; // the byte order mark is invisible in editors
        const auto number = static_cast<std::size_t>(line - line_starts_.begin()) + 1;
        errors_.emplace_back(Errc::config, util::str_cat(file_name_, ":", std::to_string(number),
                                                         ":", std::to_string(column), ": ", message));
    }

    // NUL bytes cannot live in the environment, and Node would have replaced
    // invalid UTF-8 with U+FFFD: fail closed on both, once per line.
    bool check_bytes()
    {
        for (std::size_t i = 0; i < line_starts_.size(); ++i) {
            const std::size_t begin = line_starts_[i];
            const std::size_t end = i + 1 < line_starts_.size() ? line_starts_[i + 1] : s_.size();
            const std::string_view line = s_.substr(begin, end - begin);
            const std::size_t nul = line.find('\0');
            const std::size_t bad = util::invalid_utf8_offset(line);
            if (nul != npos && nul <= bad)
                error(begin + nul, "NUL byte");
            else if (bad != npos)
                error(begin + bad, "invalid UTF-8");
        }
        return errors_.size() == errors_before_;
    }

    bool is_line_start(std::size_t i) const noexcept
    {
        if (i == 0)
            return true;
        return s_[i - 1] == '\n' || (i >= 3 && terminator_at(s_, i - 3) == 3);
    }

    // The first line start after position i, or npos.
    std::size_t next_line_start(std::size_t i) const noexcept
    {
        for (; i < s_.size(); ++i) {
            if (const std::size_t n = terminator_at(s_, i))
                return i + n;
        }
        return npos;
    }

    // The regular expression anchored at the line start p. On failure,
    // `resume` is the position after which the next line start may match
    // (line starts inside the leading white space fail the same way).
    std::optional<Match> match_at(std::size_t p, std::size_t& resume)
    {
        const std::size_t first = skip_spaces(s_, p);
        resume = first;
        if (s_.substr(first, 6) == "export" && space_at(s_, first + 6) > 0) {
            if (auto match = match_from_key(skip_spaces(s_, first + 6)))
                return match;
        }
        return match_from_key(first);
    }

    // ([\w.-]+)(?:\s*=\s*?|:\s+?)(value)?\s*(?:#.*)?$ at q. Shorter keys
    // and shorter runs of white space cannot match (the next character would
    // be a key character or white space), so only the lazy \s*? after '='
    // could backtrack, and its first choice always succeeds.
    std::optional<Match> match_from_key(std::size_t q)
    {
        Match m;
        m.key_begin = q;
        std::size_t k = q;
        while (k < s_.size() && is_key_char(s_[k]))
            ++k;
        if (k == q)
            return std::nullopt;
        m.key_end = k;
        std::size_t v = skip_spaces(s_, k);
        if (v < s_.size() && s_[v] == '=')
            v += 1;
        else if (k < s_.size() && s_[k] == ':' && space_at(s_, k + 1) > 0)
            v = k + 1 + space_at(s_, k + 1);
        else
            return std::nullopt;
        m.value_begin = m.value_end = v;

        // \s*'(?:\\'|[^'])*' and the other two quotes, then the tail.
        const std::size_t open = skip_spaces(s_, v);
        quote_failure_ = {};
        if (open < s_.size() && is_quote(s_[open])) {
            for (const std::size_t close : closing_candidates(open)) {
                if (const std::size_t end = tail_end(close + 1); end != npos) {
                    m.value_end = close + 1;
                    m.quoted = true;
                    m.end = end;
                    return m;
                }
            }
        }
        // [^#\r\n]+ (always followed by a tail that matches).
        if (v < s_.size() && s_[v] != '#' && s_[v] != '\n')
            m.value_end = std::min(s_.find_first_of("#\n", v), s_.size());
        m.end = tail_end(m.value_end);
        return m;
    }

    // Where (?:\\Q|[^Q])*Q may end, in the order a backtracking engine tries
    // them: the first bare quote, then each escaped quote from the last.
    std::vector<std::size_t> closing_candidates(std::size_t open)
    {
        const char quote = s_[open];
        std::vector<std::size_t> escapes;
        std::vector<std::size_t> candidates;
        std::size_t i = open + 1;
        while (i < s_.size()) {
            if (s_[i] == '\\' && i + 1 < s_.size() && s_[i + 1] == quote) {
                escapes.push_back(i + 1);
                i += 2;
            } else if (s_[i] == quote) {
                candidates.push_back(i);
                break;
            } else {
                ++i;
            }
        }
        quote_failure_.open = open;
        if (!candidates.empty())
            quote_failure_.after_close = skip_spaces(s_, candidates.front() + 1);
        candidates.insert(candidates.end(), escapes.rbegin(), escapes.rend());
        return candidates;
    }

    // \s*(?:#.*)?$ at p: where the match ends, or npos.
    std::size_t tail_end(std::size_t p) const noexcept
    {
        std::size_t last_terminator = npos;
        std::size_t e = p;
        while (std::size_t n = space_at(s_, e)) {
            if (terminator_at(s_, e) != 0)
                last_terminator = e;
            e += n;
        }
        if (e == s_.size())
            return e;
        if (s_[e] == '#') {
            while (e < s_.size() && terminator_at(s_, e) == 0)
                ++e;
            return e;
        }
        return last_terminator;
    }

    void add_value(const Match& m, SecretMap& values)
    {
        const std::string_view raw = s_.substr(m.value_begin, m.value_end - m.value_begin);
        const std::string_view trimmed = js::trim(raw);
        if (!m.quoted) {
            const bool empty_before_hash = m.value_end < s_.size() && s_[m.value_end] == '#';
            if (!trimmed.empty() && is_quote(trimmed.front())) {
                // Fail closed: dotenv would keep the stray quote (or strip a
                // mismatched pair) instead of the value that was meant.
                const char quote = trimmed.front();
                if (quote_failure_.after_close == npos)
                    return error(quote_failure_.open,
                                 util::str_cat("unterminated ", quote_kind(quote), " value"));
                return error(quote_failure_.after_close,
                             util::str_cat("unexpected text after the closing quote of a ",
                                           quote_kind(quote), " value"));
            }
            if (empty_before_hash && !js::space_ends_at(s_, m.value_end)) {
                // Fail closed: "KEY=abc#123" is "abc" for dotenv, which
                // silently cuts passwords and URLs short.
                return error(m.value_end, "'#' without white space before it starts a comment "
                                          "(quote the value if '#' belongs to it)");
            }
        }
        std::string value = strip_quotes(trimmed);
        if (!trimmed.empty() && trimmed.front() == '"')
            expand_newlines(value);
        values.insert_or_assign(std::string(key(m)), SecretString(std::move(value)));
    }

    std::string_view key(const Match& m) const
    {
        return s_.substr(m.key_begin, m.key_end - m.key_begin);
    }

    // Fail closed: every line dotenv would skip must be blank or a comment.
    void check_gap(std::size_t begin, std::size_t end)
    {
        while (begin < end) {
            const std::size_t line_end = std::min(s_.find('\n', begin), end);
            const std::string_view line = s_.substr(begin, line_end - begin);
            const std::size_t first = skip_spaces(line, 0);
            if (first < line.size() && line[first] != '#')
                explain_skipped_line(begin, line, first);
            begin = line_end + 1;
        }
    }

    void explain_skipped_line(std::size_t begin, std::string_view line, std::size_t first)
    {
        std::size_t key = first;
        if (line.substr(first, 6) == "export" && space_at(line, first + 6) > 0) {
            const std::size_t after = skip_spaces(line, first + 6);
            if (after < line.size() && is_key_char(line[after]))
                key = after;
        }
        if (line[key] == '=')
            return error(begin + key, "missing variable name before '='");
        if (!is_key_char(line[key]))
            return error(begin + key,
                         "expected a variable name (letters, digits, '_', '.' and '-')");
        std::size_t after_key = key;
        while (after_key < line.size() && is_key_char(line[after_key]))
            ++after_key;
        error(begin + skip_spaces(line, after_key), "expected '=' after the variable name");
    }

    std::string_view s_;
    std::string_view file_name_;
    Errors& errors_;
    const std::size_t errors_before_ = errors_.size();
    std::vector<std::size_t> line_starts_{0};
    QuoteFailure quote_failure_;
};

} // namespace

SecretMap parse_dotenv(std::string_view text, std::string_view file_name, Errors& errors)
{
    if (text.find('\r') == npos)
        return DotenvParser(text, file_name, errors).parse();
    // dotenv turns CRLF and lone CR into LF first (values included). Line
    // numbers and columns do not change: a CR only ever ends a line.
    std::string normalised;
    normalised.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\r')
            normalised += text[i];
        else if (i + 1 >= text.size() || text[i + 1] != '\n')
            normalised += '\n';
    }
    SecretMap values = DotenvParser(normalised, file_name, errors).parse();
    cleanse(normalised);
    return values;
}

} // namespace secrun::config
