// The fake's scenario-level rate limiter: a token bucket in front of every
// handler, answering as the vendor's service does when it throttles.
//
//   "rate_limit": {
//     "rps": 300,          // required: tokens added per second (1..1000000)
//     "burst": 50,         // required: bucket size, full at start (1..1000000)
//     "vendor": "aws",     // required: whose throttle answer to send:
//                          //   aws     400 {"__type":"ThrottlingException","message":"Rate
//                          exceeded"}
//                          //           application/x-amz-json-1.1, x-amzn-ErrorType
//                          //   azure   429 {"error":{"code":"Throttled",...}} + Retry-After
//                          //   doppler 429 {"messages":[...],"success":false}
//     "path": "/",         // optional: prefix of the decoded path; default every path
//     "host": "...",       // optional: the Host header without port
//     "method": "POST",    // optional
//     "retry_after": 1     // optional: Retry-After seconds (0: none); default 1 for
//   }                      //   azure, none for aws (the service sends none) and doppler
//
// Requests the limiter refuses never reach a fault rule or a handler; the
// stats file counts them under "throttled".
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace secrun::fakes
{

// Header-only and free of the server's types so that the self-test can drive
// it with its own clock.
class TokenBucket
{
public:
    using Clock = std::chrono::steady_clock;

    TokenBucket(double rate_per_second, double burst)
        : rate_(rate_per_second), burst_(burst), tokens_(burst)
    {
    }

    // Takes one token if there is one at `now`. The bucket starts full at
    // the first call; time going backwards adds nothing.
    [[nodiscard]] bool admit(Clock::time_point now)
    {
        if (!started_) {
            started_ = true;
            last_ = now;
        } else if (now > last_) {
            const std::chrono::duration<double> elapsed = now - last_;
            tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
            last_ = now;
        }
        if (tokens_ < 1.0)
            return false;
        tokens_ -= 1.0;
        return true;
    }

private:
    double rate_;
    double burst_;
    double tokens_;
    bool started_ = false;
    Clock::time_point last_{};
};

enum class ThrottleVendor { aws, azure, doppler };

struct RateLimit {
    TokenBucket bucket{1, 1};
    ThrottleVendor vendor = ThrottleVendor::aws;
    std::string path = "/";
    std::string host;                    // "" any
    std::string method;                  // "" any
    std::optional<unsigned> retry_after; // seconds; nullopt: none
};

} // namespace secrun::fakes
