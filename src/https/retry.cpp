#include "https/retry.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace secrun::https {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::array<std::string_view, 7> day_names = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> month_names = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A left-to-right reader over an HTTP-date; every method consumes only on success.
class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}

    bool literal(std::string_view text)
    {
        if (s_.substr(0, text.size()) != text)
            return false;
        s_.remove_prefix(text.size());
        return true;
    }

    // Exactly `count` decimal digits.
    std::optional<int> digits(std::size_t count)
    {
        if (s_.size() < count)
            return std::nullopt;
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (s_[i] < '0' || s_[i] > '9')
                return std::nullopt;
            value = value * 10 + (s_[i] - '0');
        }
        s_.remove_prefix(count);
        return value;
    }

    // One of `names` (case-sensitive, as RFC 9110 says); returns its index.
    template <std::size_t N>
    std::optional<unsigned> name(const std::array<std::string_view, N>& names)
    {
        for (unsigned i = 0; i < N; ++i)
            if (literal(names[i]))
                return i;
        return std::nullopt;
    }

    [[nodiscard]] bool done() const { return s_.empty(); }

private:
    std::string_view s_;
};

struct TimeOfDay {
    int hour = 0, minute = 0, second = 0;
};

// "HH:MM:SS"; a leap second (60) is accepted.
std::optional<TimeOfDay> time_of_day(Cursor& in)
{
    const auto h = in.digits(2);
    if (!h || !in.literal(":"))
        return std::nullopt;
    const auto m = in.digits(2);
    if (!m || !in.literal(":"))
        return std::nullopt;
    const auto s = in.digits(2);
    if (!s || *h > 23 || *m > 59 || *s > 60)
        return std::nullopt;
    return TimeOfDay{*h, *m, *s};
}

std::optional<std::chrono::sys_seconds> make_time(int year, unsigned month_index, int day,
                                                  const TimeOfDay& t)
{
    const std::chrono::year_month_day ymd{std::chrono::year{year},
                                          std::chrono::month{month_index + 1},
                                          std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok())
        return std::nullopt;
    return std::chrono::sys_days{ymd} + std::chrono::hours{t.hour} +
           std::chrono::minutes{t.minute} + seconds{t.second};
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::chrono::sys_seconds> imf_fixdate(std::string_view text)
{
    Cursor in(text);
    if (!in.name(day_names) || !in.literal(", "))
        return std::nullopt;
    const auto day = in.digits(2);
    if (!day || !in.literal(" "))
        return std::nullopt;
    const auto month = in.name(month_names);
    if (!month || !in.literal(" "))
        return std::nullopt;
    const auto year = in.digits(4);
    if (!year || !in.literal(" "))
        return std::nullopt;
    const auto t = time_of_day(in);
    if (!t || !in.literal(" GMT") || !in.done())
        return std::nullopt;
    return make_time(*year, *month, *day, *t);
}

// "Sunday, 06-Nov-94 08:49:37 GMT". RFC 9110: a two-digit year more than 50
// years in the future means the most recent past year with those digits.
std::optional<std::chrono::sys_seconds> rfc850_date(std::string_view text,
                                                    std::chrono::system_clock::time_point now)
{
    Cursor in(text);
    if (!in.name(long_day_names) || !in.literal(", "))
        return std::nullopt;
    const auto day = in.digits(2);
    if (!day || !in.literal("-"))
        return std::nullopt;
    const auto month = in.name(month_names);
    if (!month || !in.literal("-"))
        return std::nullopt;
    const auto yy = in.digits(2);
    if (!yy || !in.literal(" "))
        return std::nullopt;
    const auto t = time_of_day(in);
    if (!t || !in.literal(" GMT") || !in.done())
        return std::nullopt;
    const int this_year =
        static_cast<int>(std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)}
                             .year());
    int year = this_year - this_year % 100 + *yy;
    if (year > this_year + 50)
        year -= 100;
    return make_time(year, *month, *day, *t);
}

// "Sun Nov  6 08:49:37 1994" (the day is space-padded)
std::optional<std::chrono::sys_seconds> asctime_date(std::string_view text)
{
    Cursor in(text);
    if (!in.name(day_names) || !in.literal(" "))
        return std::nullopt;
    const auto month = in.name(month_names);
    if (!month || !in.literal(" "))
        return std::nullopt;
    std::optional<int> day = in.literal(" ") ? in.digits(1) : in.digits(2);
    if (!day || !in.literal(" "))
        return std::nullopt;
    const auto t = time_of_day(in);
    if (!t || !in.literal(" "))
        return std::nullopt;
    const auto year = in.digits(4);
    if (!year || !in.done())
        return std::nullopt;
    return make_time(*year, *month, *day, *t);
}

// 1*DIGIT, saturating at `limit` (a huge value must not wrap around).
std::optional<std::uint64_t> bounded_number(std::string_view text, std::uint64_t limit)
{
    if (text.empty())
        return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = std::min(limit, value * 10 + static_cast<std::uint64_t>(c - '0'));
    }
    return value;
}

std::optional<milliseconds> milliseconds_header(std::string_view value)
{
    const auto limit = static_cast<std::uint64_t>(max_retry_after.count());
    const auto n = bounded_number(util::trim(value), limit);
    if (!n)
        return std::nullopt;
    return milliseconds{static_cast<milliseconds::rep>(*n)};
}

} // namespace

milliseconds full_jitter(milliseconds base, milliseconds cap, unsigned retry,
                         double unit_random) noexcept
{
    if (retry == 0 || base <= milliseconds{0} || cap <= milliseconds{0})
        return milliseconds{0};
    // base * 2^(retry-1), saturating at cap before it can overflow.
    milliseconds bound = std::min(base, cap);
    for (unsigned i = 1; i < retry && bound < cap; ++i)
        bound = std::min(cap, bound * 2);
    const double u = std::clamp(unit_random, 0.0, 1.0);
    const auto delay = static_cast<milliseconds::rep>(u * static_cast<double>(bound.count()));
    // u may be 1.0 after clamping; the interval is half-open.
    return std::min(milliseconds{delay}, bound - milliseconds{1});
}

std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text,
                                                        std::chrono::system_clock::time_point now)
{
    if (auto t = imf_fixdate(text))
        return t;
    if (auto t = rfc850_date(text, now))
        return t;
    return asctime_date(text);
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now)
{
    value = util::trim(value);
    if (!value.empty() && value.front() >= '0' && value.front() <= '9') {
        const auto limit = static_cast<std::uint64_t>(
            std::chrono::duration_cast<seconds>(max_retry_after).count());
        const auto n = bounded_number(value, limit);
        if (!n)
            return std::nullopt;
        return milliseconds{seconds{static_cast<seconds::rep>(*n)}};
    }
    const auto date = parse_http_date(value, now);
    if (!date)
        return std::nullopt;
    const auto delta = std::chrono::time_point_cast<milliseconds>(*date) -
                       std::chrono::time_point_cast<milliseconds>(now);
    return std::clamp(delta, milliseconds{0}, max_retry_after);
}

std::optional<milliseconds> retry_after_of(const Response& response,
                                           std::chrono::system_clock::time_point now)
{
    for (const std::string_view name : {"retry-after-ms", "x-ms-retry-after-ms"})
        if (const auto value = response.header(name))
            if (auto delay = milliseconds_header(*value))
                return delay;
    if (const auto value = response.header("retry-after"))
        return parse_retry_after(*value, now);
    return std::nullopt;
}

bool is_retryable_status(unsigned status) noexcept
{
    if (status == 429)
        return true;
    return status >= 500 && status <= 599 && status != 501 && status != 505;
}

RetryDecision decide_retry(const RetryPolicy& policy, unsigned attempt,
                           const AttemptOutcome& outcome, milliseconds time_left,
                           double unit_random) noexcept
{
    if (attempt >= policy.max_attempts)
        return {};
    const bool response = outcome.status != 0;
    const bool throttled = response && (outcome.status == 429 || outcome.retry_if);
    const bool retryable = response ? (outcome.retry_if || is_retryable_status(outcome.status))
                                    : outcome.transport_retryable;
    if (!retryable)
        return {};
    milliseconds delay{};
    if (response && outcome.retry_after)
        delay = *outcome.retry_after;
    else
        delay = full_jitter(throttled ? policy.throttle_base : policy.base, policy.cap, attempt,
                            unit_random);
    // A wait that would outlast the deadline only delays the inevitable.
    if (delay >= time_left)
        return {};
    return {true, delay};
}

std::string format_duration(milliseconds d)
{
    const auto ms = d.count();
    if (ms < 1000)
        return std::to_string(ms) + " ms";
    std::string out = std::to_string(ms / 1000);
    if (const auto tenths = (ms % 1000) / 100; tenths != 0) {
        out += '.';
        out += std::to_string(tenths);
    }
    out += " s";
    return out;
}

} // namespace secrun::https
