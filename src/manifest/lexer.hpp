// The manifest lexer: lines, and whitespace-separated tokens with their
// offsets (ninja's lexer shape, one line at a time). Internal to manifest/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::manifest::detail {

struct Token {
    std::string_view text; // as written, quotes included
    std::size_t offset;    // byte offset in the line
};

struct LexError {
    std::size_t offset = 0; // byte offset in the line
    std::string message;
};

// The lines of a manifest, without their line ends. A UTF-8 byte order mark
// at the start is skipped; LF and CRLF both end a line.
class LineReader {
public:
    explicit LineReader(std::string_view text);

    // The next line and its 1-based number; false after the last line.
    [[nodiscard]] bool next(std::string_view& line, std::size_t& number) noexcept;

private:
    std::string_view rest_;
    std::size_t number_ = 0;
};

// Splits one line into tokens separated by spaces and tabs. Inside "..."
// (where \" and \\ do not end the quote) and '...', whitespace and '#' are
// part of the token. A '#' that begins a token (at the start of the line or
// after whitespace) starts a comment that runs to the end of the line; a '#'
// inside a token is the token's own (a reference's "#field").
//
// Refuses, with the offset of the culprit: lines longer than
// max_line_length, NUL bytes, other control characters except tab, invalid
// UTF-8 and unterminated quotes. On error `tokens` is left empty.
[[nodiscard]] bool tokenize(std::string_view line, std::vector<Token>& tokens, LexError& error);

} // namespace secrun::manifest::detail
