// Small string helpers shared by the parsers (no I/O, no allocation beyond the result).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace secrun::util {

// str_cat("a", std::string("b"), 'c') == "abc"; numbers are not accepted
// (use std::to_string explicitly so that intent is visible).
template <class... Parts>
[[nodiscard]] std::string str_cat(const Parts&... parts)
{
    std::string out;
    out.reserve((std::string_view(parts).size() + ... + 0));
    (out.append(std::string_view(parts)), ...);
    return out;
}

[[nodiscard]] std::string_view trim(std::string_view s) noexcept;
[[nodiscard]] std::vector<std::string_view> split(std::string_view s, char sep);
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;
[[nodiscard]] std::string to_lower(std::string_view s);

// POSIX environment variable name: [A-Za-z_][A-Za-z0-9_]*
[[nodiscard]] bool is_env_name(std::string_view s) noexcept;

// Damerau-free Levenshtein distance, for "did you mean" hints.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

// Quotes a name for a message: 'name', with control characters shown as \xNN.
// Call it qualified (util::quoted): with a std::string argument an unqualified
// call is ambiguous with std::quoted through ADL.
[[nodiscard]] std::string quoted(std::string_view s);

} // namespace secrun::util
