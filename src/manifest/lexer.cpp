#include "manifest/lexer.hpp"

#include "manifest/manifest.hpp"
#include "util/strings.hpp"
#include "util/text.hpp"

namespace secrun::manifest::detail {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

bool fail(LexError& error, std::vector<Token>& tokens, std::size_t offset, std::string message)
{
    tokens.clear();
    error.offset = offset;
    error.message = std::move(message);
    return false;
}

} // namespace

LineReader::LineReader(std::string_view text) : rest_(text)
{
    if (rest_.substr(0, utf8_bom.size()) == utf8_bom)
        rest_.remove_prefix(utf8_bom.size());
}

bool LineReader::next(std::string_view& line, std::size_t& number) noexcept
{
    if (rest_.empty())
        return false;
    const std::size_t end = rest_.find('\n');
    line = rest_.substr(0, end);
    rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    number = ++number_;
    return true;
}

bool tokenize(std::string_view line, std::vector<Token>& tokens, LexError& error)
{
    tokens.clear();
    if (line.size() > max_line_length)
        return fail(error, tokens, 0,
                    util::str_cat("line is longer than ", std::to_string(max_line_length), " bytes"));
    // Check every byte first, so that nothing below sees a NUL or a broken
    // sequence (and the message points at the first culprit of the line).
    const std::size_t bad_utf8 = util::invalid_utf8_offset(line);
    for (std::size_t i = 0; i < line.size() && i < bad_utf8; ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c == 0)
            return fail(error, tokens, i, "NUL byte");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(error, tokens, i,
                        util::str_cat("control character ", util::describe_char(line.substr(i))));
    }
    if (bad_utf8 != std::string_view::npos)
        return fail(error, tokens, bad_utf8, "invalid UTF-8");

    std::size_t i = 0;
    for (;;) {
        while (i < line.size() && is_blank(line[i]))
            ++i;
        if (i == line.size() || line[i] == '#')
            return true;
        const std::size_t start = i;
        while (i < line.size() && !is_blank(line[i])) {
            if (line[i] == '"') {
                std::size_t j = i + 1;
                while (j < line.size() && line[j] != '"')
                    j += (line[j] == '\\' && j + 1 < line.size()) ? 2 : 1;
                if (j >= line.size())
                    return fail(error, tokens, i, "unterminated double quote");
                i = j + 1;
            } else if (line[i] == '\'') {
                const std::size_t j = line.find('\'', i + 1);
                if (j == std::string_view::npos)
                    return fail(error, tokens, i, "unterminated single quote");
                i = j + 1;
            } else {
                ++i;
            }
        }
        tokens.push_back(Token{line.substr(start, i - start), start});
    }
}

} // namespace secrun::manifest::detail
