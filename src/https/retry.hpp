// When and how long the HTTPS client waits before another attempt (pure).
//
// Backoff is "full jitter" (a uniform delay in [0, min(cap, base * 2^(n-1))),
// as the AWS SDKs' standard mode), throttling starts from a larger base, and a
// server's Retry-After wins over the computed delay. Nothing here reads a
// clock or a random device: time and randomness are parameters.
#pragma once

#include "https/client.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::https {

struct RetryPolicy {
    unsigned max_attempts = 5;                     // attempts in total (first one included)
    std::chrono::milliseconds base{200};           // backoff bound of the first retry (errors, 5xx)
    std::chrono::milliseconds throttle_base{1000}; // same for 429 and Request::retry_if
    std::chrono::milliseconds cap{20000};          // no computed backoff is longer
};

// A Retry-After longer than this is read as this (the deadline decides anyway).
inline constexpr std::chrono::milliseconds max_retry_after{std::chrono::hours(24)};

/// Full-jitter backoff before retry number `retry` (1 for the first retry):
/// floor(unit_random * min(cap, base * 2^(retry-1))). `unit_random` is in
/// [0, 1); values outside are clamped. Never fails.
[[nodiscard]] std::chrono::milliseconds full_jitter(std::chrono::milliseconds base,
                                                    std::chrono::milliseconds cap, unsigned retry,
                                                    double unit_random) noexcept;

/// An HTTP-date (RFC 9110 §5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT",
/// and the obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT", its two-digit
/// year read relative to `now`) and asctime ("Sun Nov  6 08:49:37 1994")
/// forms. nullopt for anything else (bad names, out-of-range fields, 30 Feb).
/// Seconds precision: system_clock's nanoseconds cannot hold year 9999.
[[nodiscard]] std::optional<std::chrono::sys_seconds>
parse_http_date(std::string_view text, std::chrono::system_clock::time_point now);

/// The delay a Retry-After value asks for: delay-seconds ("120") or an
/// HTTP-date relative to `now` (a past date is 0). Clamped to
/// max_retry_after. nullopt for anything else ("-1", "1.5", "soon", "").
[[nodiscard]] std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

/// The delay a response asks for: `retry-after-ms` or `x-ms-retry-after-ms`
/// (milliseconds, as Azure sends them), else `Retry-After`. nullopt when none
/// is present or valid.
[[nodiscard]] std::optional<std::chrono::milliseconds>
retry_after_of(const Response& response, std::chrono::system_clock::time_point now);

/// True for 429 and 5xx, except 501 (Not Implemented) and 505 (HTTP Version
/// Not Supported), which another attempt cannot change. Every other status,
/// 4xx included, is final.
[[nodiscard]] bool is_retryable_status(unsigned status) noexcept;

// How an attempt ended, as far as retrying is concerned.
struct AttemptOutcome {
    unsigned status = 0;              // the response's status; 0 when no response came
    bool transport_retryable = false; // status 0: reset, refused, the attempt's own timeout
    bool retry_if = false;            // Request::retry_if matched the response (AWS throttling)
    std::optional<std::chrono::milliseconds> retry_after; // what the server asked for
};

struct RetryDecision {
    bool retry = false;
    std::chrono::milliseconds delay{0};
};

/// Whether to try again after attempt number `attempt` (1-based) ended with
/// `outcome`, and how long to wait first. No retry when the attempts are used
/// up, when the outcome is final (any 4xx unless retry_if, TLS and
/// configuration errors), or when the wait would not end before `time_left`
/// runs out: then the caller returns the last outcome at once. A retryable
/// response's Retry-After is used as is; otherwise full jitter from `base`
/// (`throttle_base` for 429 and retry_if).
[[nodiscard]] RetryDecision decide_retry(const RetryPolicy& policy, unsigned attempt,
                                         const AttemptOutcome& outcome,
                                         std::chrono::milliseconds time_left,
                                         double unit_random) noexcept;

/// "350 ms", "1 s", "1.5 s", "20 s": for log lines and messages.
[[nodiscard]] std::string format_duration(std::chrono::milliseconds d);

} // namespace secrun::https
