// The scenario file of secrun_fake_cloud: vendor data plus fault rules.
//
//   {
//     "latency_ms": 0,              // optional: delay before answering every request
//     "proxy": {                    // optional
//       "basic_auth": "user:pass"   // require Proxy-Authorization: Basic on CONNECT
//     },
//     "faults": [                   // optional: tried in order, first match applies
//       {
//         "method": "GET",          // optional; default: any method
//         "path": "/v3/configs",    // optional; prefix of the decoded path; default "/"
//         "host": "api.example",    // optional; the Host header without port
//         "listener": "https",      // optional; "https" or "http"; default: both
//         "count": 1,               // optional; the next N matching requests; -1: all
//         "delay_ms": 0,            // optional; wait this long first (with any action)
//         "action": "status",       // required: status | delay | reset | reset_mid |
//                                   //   stall | truncate | oversize | invalid_json
//         "status": 500,            // "status": the status code (default 500)
//         "body": "...",            // "status": a string, or JSON (sent as JSON)
//         "headers": {"Retry-After": "1"}, // "status": extra response headers
//         "size": 2097152           // "oversize": body size in bytes (default 2 MiB)
//       }
//     ],
//     "rate_limit": { ... },        // optional: a token bucket in front of every
//                                   //   handler (fake_cloud_rate_limit.hpp)
//     "vendors": {                  // optional: one section per vendor fake
//       "doppler": { ... }          // see doppler_fake.cpp
//     }
//   }
//
// Actions:
//   status       answer with `status`, `body` and `headers`; no handler runs
//   delay        wait `delay_ms`, then answer normally
//   reset        close the TCP connection with RST (SO_LINGER 0), no answer
//   reset_mid    send the real answer's headers and half of its body (as
//                truncate), then RST: a connection reset mid-response
//   stall        never answer; keep the connection open
//   truncate     send the real answer's headers and only half of its body,
//                then close (the client sees fewer bytes than Content-Length)
//   oversize     200 with a well-formed JSON body of `size` bytes
//   invalid_json 200, Content-Type application/json, a body that is not JSON
// Unknown keys anywhere in this file are errors: a typo must not pass silently.
#pragma once

#include "fake_cloud.hpp"
#include "fake_cloud_rate_limit.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::fakes
{

enum class FaultAction { status, delay, reset, reset_mid, stall, truncate, oversize, invalid_json };

struct FaultRule {
    std::string method; // "" any
    std::string path = "/";
    std::string host; // "" any
    std::optional<Listener> listener;
    long remaining = 1; // -1: unlimited
    unsigned delay_ms = 0;
    FaultAction action = FaultAction::status;
    unsigned status = 500;
    std::string body;
    HeaderList headers;
    std::size_t size = 2 * 1024 * 1024;
};

struct Scenario {
    unsigned latency_ms = 0;
    std::string proxy_basic_auth; // "user:pass"; empty: the proxy needs no credentials
    std::vector<FaultRule> faults;
    std::optional<RateLimit> rate_limit;
    unsigned long throttled_serial = 0; // numbers the throttle answers' request ids
    boost::json::object vendors;

    // The first rule matching `request` that has uses left, with its count
    // decremented; nullopt when none applies.
    [[nodiscard]] std::optional<FaultRule> take_fault(const HttpRequest& request);

    // The vendor's throttle answer when the rate limit applies to `request`
    // and its bucket is empty at `now`; nullopt when the request may pass.
    [[nodiscard]] std::optional<HttpResponse> throttle(const HttpRequest& request,
                                                       TokenBucket::Clock::time_point now);
};

// Parses the scenario text. Returns an error message naming the bad key.
[[nodiscard]] std::optional<std::string> parse_scenario(std::string_view text, Scenario& out);

[[nodiscard]] std::string_view to_string(FaultAction action);

} // namespace secrun::fakes
