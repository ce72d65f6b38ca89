// JavaScript's white space and line terminators on UTF-8 text: what the
// regular expressions of the dotenv package see as \s, ^, $ and ., and what
// String.prototype.trim() removes. Internal to config/.
#pragma once

#include <cstddef>
#include <string_view>

namespace secrun::config::js {

// Length in bytes of the white space character (\s: tab, LF, VT, FF, CR,
// space, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000, U+FEFF) at s[i], or 0 (also when i is past the end).
[[nodiscard]] std::size_t space_at(std::string_view s, std::size_t i) noexcept;

// Length of the line terminator (LF, CR, U+2028, U+2029) at s[i], or 0.
[[nodiscard]] std::size_t terminator_at(std::string_view s, std::size_t i) noexcept;

// True when a white space character ends just before s[i].
[[nodiscard]] bool space_ends_at(std::string_view s, std::size_t i) noexcept;

// The first position at or after i that is not white space.
[[nodiscard]] std::size_t skip_spaces(std::string_view s, std::size_t i) noexcept;

// s without white space at either end, as String.prototype.trim().
[[nodiscard]] std::string_view trim(std::string_view s) noexcept;

} // namespace secrun::config::js
