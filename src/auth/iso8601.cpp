#include "auth/iso8601.hpp"

#include <charconv>
#include <ctime>

namespace secrun::auth {
namespace {

// Reads exactly `digits` decimal digits at `pos`.
std::optional<int> number(std::string_view text, std::size_t pos, std::size_t digits)
{
    if (pos + digits > text.size())
        return std::nullopt;
    int value = 0;
    for (std::size_t i = pos; i < pos + digits; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text)
{
    // YYYY-MM-DDTHH:MM:SS
    if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
        text[13] != ':' || text[16] != ':')
        return std::nullopt;
    const auto year = number(text, 0, 4);
    const auto month = number(text, 5, 2);
    const auto day = number(text, 8, 2);
    const auto hour = number(text, 11, 2);
    const auto minute = number(text, 14, 2);
    const auto second = number(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
        *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
        return std::nullopt;

    std::size_t pos = 19;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const std::size_t digits_start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
            ++pos;
        if (pos == digits_start)
            return std::nullopt;
    }
    long offset_seconds = 0;
    if (pos < text.size()) {
        const char zone = text[pos];
        if ((zone == 'Z' || zone == 'z') && pos + 1 == text.size()) {
            // UTC
        } else if ((zone == '+' || zone == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
            const auto zh = number(text, pos + 1, 2);
            const auto zm = number(text, pos + 4, 2);
            if (!zh || !zm || *zh > 23 || *zm > 59)
                return std::nullopt;
            offset_seconds = (*zh * 3600L + *zm * 60L) * (zone == '+' ? 1 : -1);
        } else {
            return std::nullopt;
        }
    }

    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    const std::time_t utc = ::timegm(&tm);
    if (utc == static_cast<std::time_t>(-1))
        return std::nullopt;
    return from_epoch_seconds(static_cast<long long>(utc) - offset_seconds);
}

std::optional<std::chrono::system_clock::time_point> from_epoch_seconds(long long seconds) noexcept
{
    constexpr long long limit =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max())
            .count();
    if (seconds >= limit || seconds <= -limit)
        return std::nullopt;
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

std::optional<std::chrono::system_clock::time_point>
seconds_after(std::chrono::system_clock::time_point now, long long seconds) noexcept
{
    const long long base =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    long long sum = 0;
    if (__builtin_add_overflow(base, seconds, &sum))
        return std::nullopt;
    return from_epoch_seconds(sum);
}

} // namespace secrun::auth
