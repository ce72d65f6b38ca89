// Text helpers for the parsers' messages: UTF-8 checks, columns, "did you mean".
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace secrun::util {

// Offset of the first byte that does not start a valid UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF are invalid),
// or std::string_view::npos when all of `s` is valid.
[[nodiscard]] std::size_t invalid_utf8_offset(std::string_view s) noexcept;

// The 1-based column of byte `offset` in `line`, counted in code points (so
// that it matches what editors show); continuation bytes do not count.
[[nodiscard]] std::size_t column_at(std::string_view line, std::size_t offset) noexcept;

// Describes the character that starts at s[0] for a message: 'x' for
// printable ASCII, '\x01' for control characters, U+00A0 for anything else.
// `s` must not be empty.
[[nodiscard]] std::string describe_char(std::string_view s);

// " (did you mean 'aws_secrets'?)" when one of `candidates` is close to
// `word` (a small edit distance, case ignored, or a candidate containing a
// word of three letters or more), else "".
[[nodiscard]] std::string did_you_mean(std::string_view word,
                                       std::span<const std::string_view> candidates);

} // namespace secrun::util
