// ISO-8601 timestamps as AWS sends them (credential Expiration fields).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace secrun::auth {

// Parses "2014-10-24T23:00:23Z", with optional fractional seconds (dropped)
// and a "Z", "+HH:MM" or "-HH:MM" zone (none means UTC). nullopt when the
// text is anything else, or a time system_clock cannot hold (before
// 1677-09-22 or after 2262-04-10).
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

// `seconds` since the epoch as a time_point, or nullopt when system_clock
// cannot hold it (it counts nanoseconds in 64 bits: 1677-09-22 to
// 2262-04-10); converting such a number would overflow, which is undefined
// behaviour, not just a wrong time. Every epoch number a server sends goes
// through here.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point>
from_epoch_seconds(long long seconds) noexcept;

// `now + seconds`, or nullopt when the sum is outside what system_clock holds.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point>
seconds_after(std::chrono::system_clock::time_point now, long long seconds) noexcept;

} // namespace secrun::auth
