// Retry-After: the first line as a header value (delay-seconds or an
// HTTP-date), every following "name: value" line as a response header. A
// delay is never negative nor longer than max_retry_after.
#include "fuzz_support.hpp"

#include "https/retry.hpp"

#include <chrono>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace std::chrono;
    using secrun::fuzz::require;
    const std::string_view text = secrun::fuzz::as_text(data, size);
    const auto parts = secrun::fuzz::fields(text, 2);
    // 2024-05-06T07:08:09Z: two-digit RFC 850 years are read relative to it.
    const system_clock::time_point now{seconds(1714979289)};

    const auto in_range = [](milliseconds d) {
        return d >= milliseconds(0) && d <= secrun::https::max_retry_after;
    };
    if (const auto delay = secrun::https::parse_retry_after(parts[0], now))
        require(in_range(*delay), "a Retry-After delay lies in [0, max_retry_after]");
    (void)secrun::https::parse_http_date(parts[0], now);

    secrun::https::Response response;
    response.status = 429;
    std::string_view rest = parts[1];
    while (!rest.empty() && response.headers.size() < 64) {
        const auto line = secrun::fuzz::fields(rest, 2);
        const auto colon = line[0].find(':');
        if (colon != std::string_view::npos)
            response.headers.emplace_back(std::string(line[0].substr(0, colon)),
                                          std::string(line[0].substr(colon + 1)));
        rest = line[1];
    }
    if (const auto delay = secrun::https::retry_after_of(response, now)) {
        require(in_range(*delay), "a response's delay lies in [0, max_retry_after]");
        (void)secrun::https::format_duration(*delay);
        secrun::https::AttemptOutcome outcome;
        outcome.status = 429;
        outcome.retry_after = delay;
        const auto decision =
            secrun::https::decide_retry({}, 1, outcome, secrun::https::max_retry_after, 0.5);
        require(!decision.retry || decision.delay == *delay, "a retry waits what the server asked");
    }
    return 0;
}
