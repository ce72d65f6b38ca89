#include "util/text.hpp"

#include "util/strings.hpp"

#include <cstdint>
#include <limits>

namespace secrun::util {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629, table 3-7 of
// the Unicode standard: no overlongs, no surrogates, nothing past U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80)
        return 1;
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        length = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        length = 3;
        if (b0 == 0xe0)
            low = 0xa0;
        else if (b0 == 0xed)
            high = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        length = 4;
        if (b0 == 0xf0)
            low = 0x90;
        else if (b0 == 0xf4)
            high = 0x8f;
    } else {
        return 0;
    }
    if (i + length > s.size())
        return 0;
    const unsigned char b1 = byte(i + 1);
    if (b1 < low || b1 > high)
        return 0;
    for (std::size_t k = 2; k < length; ++k) {
        const unsigned char b = byte(i + k);
        if (b < 0x80 || b > 0xbf)
            return 0;
    }
    return length;
}

char32_t decode(std::string_view s, std::size_t length) noexcept
{
    const auto byte = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[k])); };
    switch (length) {
    case 2:
        return ((byte(0) & 0x1f) << 6) | (byte(1) & 0x3f);
    case 3:
        return ((byte(0) & 0x0f) << 12) | ((byte(1) & 0x3f) << 6) | (byte(2) & 0x3f);
    case 4:
        return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3f) << 12) | ((byte(2) & 0x3f) << 6) |
               (byte(3) & 0x3f);
    default:
        return byte(0);
    }
}

} // namespace

std::size_t invalid_utf8_offset(std::string_view s) noexcept
{
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t length = utf8_sequence_length(s, i);
        if (length == 0)
            return i;
        i += length;
    }
    return std::string_view::npos;
}

std::size_t column_at(std::string_view line, std::size_t offset) noexcept
{
    if (offset > line.size())
        offset = line.size();
    std::size_t column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        if ((static_cast<unsigned char>(line[i]) & 0xc0) != 0x80)
            ++column;
    }
    return column;
}

std::string describe_char(std::string_view s)
{
    if (s.empty())
        return "end of text";
    const auto b0 = static_cast<unsigned char>(s[0]);
    if (b0 < 0x80)
        return quoted(s.substr(0, 1));
    const std::size_t length = utf8_sequence_length(s, 0);
    if (length == 0) {
        static constexpr char hex[] = "0123456789abcdef";
        return str_cat("byte 0x", std::string{hex[b0 >> 4], hex[b0 & 0xf]});
    }
    static constexpr char hex[] = "0123456789ABCDEF";
    const char32_t cp = decode(s, length);
    std::string digits; // at least four, as U+00A0 and U+1F511 are written
    for (int shift = 20; shift >= 0; shift -= 4) {
        if (shift < 16 || !digits.empty() || ((cp >> shift) & 0xf) != 0)
            digits += hex[(cp >> shift) & 0xf];
    }
    return str_cat("U+", digits);
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates)
{
    const std::string lower = to_lower(word);
    std::string_view best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const std::string_view candidate : candidates) {
        const std::size_t d = edit_distance(lower, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    const bool close = best_distance <= 2 && best_distance < lower.size();
    if (!close) {
        best = {};
        if (lower.size() >= 3) {
            for (const std::string_view candidate : candidates) {
                if (candidate.find(lower) != std::string_view::npos) {
                    best = candidate;
                    break;
                }
            }
        }
    }
    if (best.empty() || best == word)
        return {};
    return str_cat(" (did you mean '", best, "'?)");
}

} // namespace secrun::util
