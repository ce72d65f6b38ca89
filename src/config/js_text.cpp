#include "config/js_text.hpp"

#include <algorithm>

namespace secrun::config::js {

std::size_t space_at(std::string_view s, std::size_t i) noexcept
{
    if (i >= s.size())
        return 0;
    const auto b = [&](std::size_t k) {
        return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
    };
    switch (b(0)) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
        return 1;
    case 0xc2: // U+00A0
        return b(1) == 0xa0 ? 2 : 0;
    case 0xe1: // U+1680
        return b(1) == 0x9a && b(2) == 0x80 ? 3 : 0;
    case 0xe2: // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
        if (b(1) == 0x80 && ((b(2) >= 0x80 && b(2) <= 0x8a) || b(2) == 0xa8 || b(2) == 0xa9 ||
                             b(2) == 0xaf))
            return 3;
        return b(1) == 0x81 && b(2) == 0x9f ? 3 : 0;
    case 0xe3: // U+3000
        return b(1) == 0x80 && b(2) == 0x80 ? 3 : 0;
    case 0xef: // U+FEFF
        return b(1) == 0xbb && b(2) == 0xbf ? 3 : 0;
    default:
        return 0;
    }
}

std::size_t terminator_at(std::string_view s, std::size_t i) noexcept
{
    if (i >= s.size())
        return 0;
    if (s[i] == '\n' || s[i] == '\r')
        return 1;
    if (s.substr(i, 3) == "\xE2\x80\xA8" || s.substr(i, 3) == "\xE2\x80\xA9")
        return 3;
    return 0;
}

bool space_ends_at(std::string_view s, std::size_t i) noexcept
{
    for (std::size_t n = 1; n <= 3 && n <= i; ++n) {
        if (space_at(s, i - n) == n)
            return true;
    }
    return false;
}

std::size_t skip_spaces(std::string_view s, std::size_t i) noexcept
{
    while (const std::size_t n = space_at(s, i))
        i += n;
    return i;
}

std::string_view trim(std::string_view s) noexcept
{
    s.remove_prefix(std::min(skip_spaces(s, 0), s.size()));
    for (bool trimmed = true; trimmed;) {
        trimmed = false;
        for (std::size_t n = 1; n <= 3 && n <= s.size(); ++n) {
            if (space_at(s, s.size() - n) == n) {
                s.remove_suffix(n);
                trimmed = true;
                break;
            }
        }
    }
    return s;
}

} // namespace secrun::config::js
