#include "https/retry.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <vector>

using namespace std::chrono;
using namespace std::chrono_literals;
using secrun::https::AttemptOutcome;
using secrun::https::decide_retry;
using secrun::https::format_duration;
using secrun::https::full_jitter;
using secrun::https::parse_http_date;
using secrun::https::parse_retry_after;
using secrun::https::Response;
using secrun::https::retry_after_of;
using secrun::https::RetryPolicy;

namespace {

// 10 s before the RFC's example date, Sun, 06 Nov 1994 08:49:37 GMT.
const system_clock::time_point example_now =
    sys_days{1994y / November / 6} + 8h + 49min + 27s;

struct JitterCase {
    milliseconds base;
    unsigned retry;
    double u;
    milliseconds expected;
};
std::ostream& operator<<(std::ostream& os, const JitterCase& c)
{
    return os << "base " << c.base.count() << " retry " << c.retry << " u " << c.u;
}

struct AfterCase {
    const char* value;
    std::optional<milliseconds> expected;
};
std::ostream& operator<<(std::ostream& os, const AfterCase& c) { return os << '"' << c.value << '"'; }

struct DecisionCase {
    const char* name;
    unsigned attempt;
    AttemptOutcome outcome;
    milliseconds time_left;
    bool retry;
    milliseconds delay;
};
std::ostream& operator<<(std::ostream& os, const DecisionCase& c) { return os << c.name; }

AttemptOutcome status(unsigned s, std::optional<milliseconds> after = std::nullopt,
                      bool retry_if = false)
{
    AttemptOutcome o;
    o.status = s;
    o.retry_after = after;
    o.retry_if = retry_if;
    return o;
}

AttemptOutcome transport(bool retryable)
{
    AttemptOutcome o;
    o.transport_retryable = retryable;
    return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(retry)

// Cap 20 s throughout; the bound doubles from `base` and the delay is floor(u * bound).
const std::vector<JitterCase> jitter_cases = {
    {200ms, 1, 0.0, 0ms},          {200ms, 1, 0.5, 100ms},        {200ms, 1, 0.999, 199ms},
    {200ms, 1, 1.0, 199ms},        {200ms, 1, -3.0, 0ms},         {200ms, 2, 0.5, 200ms},
    {200ms, 3, 0.5, 400ms},        {200ms, 7, 0.5, 6400ms},       {200ms, 8, 0.5, 10000ms},
    {200ms, 100, 0.5, 10000ms},    {200ms, 4000000000u, 0.75, 15000ms},
    {200ms, 0, 0.5, 0ms},          {1000ms, 1, 0.5, 500ms},       {1000ms, 5, 0.5, 8000ms},
    {1000ms, 6, 0.5, 10000ms},     {30000ms, 1, 0.5, 10000ms},
};

BOOST_DATA_TEST_CASE(full_jitter_table, boost::unit_test::data::make(jitter_cases), c)
{
    BOOST_TEST(full_jitter(c.base, 20s, c.retry, c.u).count() == c.expected.count());
}

BOOST_AUTO_TEST_CASE(full_jitter_stays_below_the_doubling_bound)
{
    for (unsigned retry = 1; retry <= 40; ++retry) {
        const auto bound = std::min<milliseconds>(20s, 200ms * (1ll << std::min(retry - 1, 20u)));
        for (const double u : {0.0, 0.25, 0.5, 0.75, 0.999999}) {
            const auto d = full_jitter(200ms, 20s, retry, u);
            BOOST_TEST(d.count() >= 0);
            BOOST_TEST(d.count() < bound.count());
        }
    }
}

const std::vector<AfterCase> retry_after_cases = {
    {"120", 120s},
    {"0", 0ms},
    {" 5\t", 5s},
    {"Sun, 06 Nov 1994 08:49:37 GMT", 10s},  // IMF-fixdate
    {"Sunday, 06-Nov-94 08:49:37 GMT", 10s}, // RFC 850
    {"Sun Nov  6 08:49:37 1994", 10s},       // asctime
    {"Sun, 06 Nov 1994 08:49:00 GMT", 0ms},  // in the past
    {"Sat, 01 Jan 1994 00:00:00 GMT", 0ms},
    {"86400", 24h},
    {"86401", 24h},
    {"99999999999999999999999999", 24h},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 24h},
    {"", std::nullopt},
    {"soon", std::nullopt},
    {"-1", std::nullopt},
    {"1.5", std::nullopt},
    {"+5", std::nullopt},
    {"5s", std::nullopt},
    {"Sun, 06 Nov 1994 08:49:37 UTC", std::nullopt},
    {"sun, 06 Nov 1994 08:49:37 GMT", std::nullopt},
    {"Sun, 6 Nov 1994 08:49:37 GMT", std::nullopt},
    {"Sun, 06 nov 1994 08:49:37 GMT", std::nullopt},
    {"Sun, 31 Feb 1994 08:49:37 GMT", std::nullopt},
    {"Sun, 06 Nov 1994 24:00:00 GMT", std::nullopt},
    {"Sun, 06 Nov 1994 08:60:00 GMT", std::nullopt},
    {"Sun, 06 Nov 1994 08:49:37 GMT extra", std::nullopt},
    {"Sun Nov 6 08:49:37 1994", std::nullopt},
};

BOOST_DATA_TEST_CASE(retry_after_table, boost::unit_test::data::make(retry_after_cases), c)
{
    const auto got = parse_retry_after(c.value, example_now);
    BOOST_TEST(got.has_value() == c.expected.has_value());
    if (got && c.expected)
        BOOST_TEST(got->count() == c.expected->count());
}

BOOST_AUTO_TEST_CASE(rfc850_two_digit_year_is_at_most_fifty_years_ahead)
{
    const system_clock::time_point now = sys_days{2026y / March / 1};
    const auto in_2076 = parse_http_date("Thursday, 01-Jan-76 00:00:00 GMT", now);
    const auto in_1977 = parse_http_date("Saturday, 01-Jan-77 00:00:00 GMT", now);
    BOOST_TEST_REQUIRE(in_2076.has_value());
    BOOST_TEST_REQUIRE(in_1977.has_value());
    BOOST_TEST((*in_2076 == sys_days{2076y / January / 1}));
    BOOST_TEST((*in_1977 == sys_days{1977y / January / 1}));
}

BOOST_AUTO_TEST_CASE(reads_millisecond_headers_before_retry_after)
{
    Response r;
    BOOST_TEST(!retry_after_of(r, example_now).has_value());
    r.headers = {{"Retry-After", "2"}};
    BOOST_TEST(retry_after_of(r, example_now)->count() == 2000);
    r.headers = {{"Retry-After", "2"}, {"retry-after-ms", "250"}};
    BOOST_TEST(retry_after_of(r, example_now)->count() == 250);
    r.headers = {{"Retry-After", "2"}, {"X-MS-Retry-After-Ms", "1500"}};
    BOOST_TEST(retry_after_of(r, example_now)->count() == 1500);
    r.headers = {{"Retry-After", "2"}, {"retry-after-ms", "later"}};
    BOOST_TEST(retry_after_of(r, example_now)->count() == 2000);
    r.headers = {{"Retry-After", "tomorrow"}};
    BOOST_TEST(!retry_after_of(r, example_now).has_value());
}

// Policy: 5 attempts, base 200 ms, throttling base 1 s, cap 20 s; u = 0.5.
const std::vector<DecisionCase> decision_cases = {
    {"200 is final", 1, status(200), 60s, false, 0ms},
    {"400 is final", 1, status(400), 60s, false, 0ms},
    {"401 is final", 1, status(401), 60s, false, 0ms},
    {"403 is final", 1, status(403), 60s, false, 0ms},
    {"404 is final", 1, status(404), 60s, false, 0ms},
    {"408 is final", 1, status(408), 60s, false, 0ms},
    {"409 is final", 1, status(409), 60s, false, 0ms},
    {"304 is final", 1, status(304), 60s, false, 0ms},
    {"404 ignores Retry-After", 1, status(404, 1s), 60s, false, 0ms},
    {"500 retried", 1, status(500), 60s, true, 100ms},
    {"502 retried", 2, status(502), 60s, true, 200ms},
    {"503 retried", 3, status(503), 60s, true, 400ms},
    {"504 retried", 4, status(504), 60s, true, 800ms},
    {"599 retried", 1, status(599), 60s, true, 100ms},
    {"501 is final", 1, status(501), 60s, false, 0ms},
    {"505 is final", 1, status(505), 60s, false, 0ms},
    {"429 throttled", 1, status(429), 60s, true, 500ms},
    {"429 throttled again", 2, status(429), 60s, true, 1000ms},
    {"429 with Retry-After", 1, status(429, 1s), 60s, true, 1000ms},
    {"503 with Retry-After 0", 1, status(503, 0ms), 60s, true, 0ms},
    {"400 with retry_if", 1, status(400, std::nullopt, true), 60s, true, 500ms},
    {"200 with retry_if", 1, status(200, std::nullopt, true), 60s, true, 500ms},
    {"connection error", 1, transport(true), 60s, true, 100ms},
    {"TLS failure", 1, transport(false), 60s, false, 0ms},
    {"attempts used up", 5, status(503), 60s, false, 0ms},
    {"attempts used up for errors", 5, transport(true), 60s, false, 0ms},
    {"Retry-After past the deadline", 1, status(429, 70s), 60s, false, 0ms},
    {"Retry-After exactly the time left", 1, status(429, 60s), 60s, false, 0ms},
    {"backoff past the deadline", 1, status(503), 50ms, false, 0ms},
    {"no time left", 1, status(503), 0ms, false, 0ms},
};

BOOST_DATA_TEST_CASE(decision_table, boost::unit_test::data::make(decision_cases), c)
{
    const RetryPolicy policy{5, 200ms, 1000ms, 20s};
    const auto d = decide_retry(policy, c.attempt, c.outcome, c.time_left, 0.5);
    BOOST_TEST(d.retry == c.retry);
    BOOST_TEST(d.delay.count() == c.delay.count());
}

BOOST_AUTO_TEST_CASE(one_attempt_means_no_retry)
{
    const RetryPolicy policy{1, 200ms, 1000ms, 20s};
    BOOST_TEST(!decide_retry(policy, 1, status(503), 60s, 0.5).retry);
}

BOOST_AUTO_TEST_CASE(formats_durations_for_people)
{
    BOOST_TEST(format_duration(0ms) == "0 ms");
    BOOST_TEST(format_duration(350ms) == "350 ms");
    BOOST_TEST(format_duration(999ms) == "999 ms");
    BOOST_TEST(format_duration(1000ms) == "1 s");
    BOOST_TEST(format_duration(1050ms) == "1 s");
    BOOST_TEST(format_duration(1500ms) == "1.5 s");
    BOOST_TEST(format_duration(20s) == "20 s");
}

BOOST_AUTO_TEST_SUITE_END()
