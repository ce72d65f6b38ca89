#include "https/pacer.hpp"

#include <boost/test/unit_test.hpp>

#include <boost/asio/co_spawn.hpp>

#include <exception>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using secrun::https::PacingPolicy;
using secrun::https::SendPacer;
using Clock = SendPacer::Clock;

namespace
{

// What one request got from the pacer, and when.
struct Got {
    std::optional<SendPacer::Turn> turn;
    Clock::time_point at{};
    bool gave_up = false;
};

// `pacer` and `got` are owned by the test and outlive ioc.run().
asio::awaitable<void> wait(SendPacer& pacer, std::string key, Clock::time_point deadline, Got& got)
{
    // GCC 12: create the task on its own line, then await it.
    auto waiting = pacer.wait_turn(std::move(key), deadline);
    std::optional<SendPacer::Turn> turn = co_await std::move(waiting);
    got.at = Clock::now();
    got.gave_up = !turn;
    got.turn = std::move(turn);
}

void rethrow(std::exception_ptr e)
{
    if (e)
        std::rethrow_exception(e);
}

const Clock::time_point far = Clock::now() + 1h;

// Turns for `n` requests to "k", each run to completion.
std::vector<Got> turns(asio::io_context& ioc, SendPacer& pacer, std::size_t n)
{
    std::vector<Got> out(n);
    for (auto& got : out)
        asio::co_spawn(ioc, wait(pacer, "k", far, got), rethrow);
    ioc.restart();
    ioc.run();
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(send_pacer)

BOOST_AUTO_TEST_CASE(a_host_that_never_throttled_is_not_paced)
{
    asio::io_context ioc;
    SendPacer pacer(ioc, PacingPolicy{}, 1);
    const auto start = Clock::now();
    const auto got = turns(ioc, pacer, 50);
    for (const auto& g : got) {
        BOOST_TEST(g.turn.has_value());
        BOOST_TEST((g.at - start < 50ms)); // no timer: all at once
    }
    BOOST_TEST(pacer.gap("k").count() == 0.0);
}

BOOST_AUTO_TEST_CASE(a_throttle_event_spaces_the_next_requests)
{
    asio::io_context ioc;
    SendPacer pacer(ioc, PacingPolicy{40ms, 1000ms, 10ms}, 7);
    auto wave = turns(ioc, pacer, 8);
    // The whole first wave is refused: one event, not eight.
    const auto event_at = Clock::now();
    BOOST_TEST(pacer.throttled(*wave[0].turn));
    for (std::size_t i = 1; i < wave.size(); ++i)
        BOOST_TEST(!pacer.throttled(*wave[i].turn));
    BOOST_TEST(pacer.gap("k").count() == 40.0);
    BOOST_TEST(pacer.gap("other").count() == 0.0); // hosts are paced apart

    const auto next = turns(ioc, pacer, 4);
    auto previous = event_at;
    for (const auto& g : next) {
        BOOST_TEST_REQUIRE(g.turn.has_value());
        BOOST_TEST((g.at - previous >= 20ms)); // at least half the gap apart
        previous = g.at;
    }
}

BOOST_AUTO_TEST_CASE(the_throttled_request_goes_first_at_its_own_retry_time)
{
    asio::io_context ioc;
    SendPacer pacer(ioc, PacingPolicy{2000ms, 4000ms, 10ms}, 11);
    auto first = turns(ioc, pacer, 2);
    BOOST_TEST(pacer.throttled(*first[0].turn));
    pacer.retry_at(*first[0].turn, Clock::now() + 20ms); // its backoff, shorter than the gap
    BOOST_TEST(!pacer.throttled(*first[1].turn));
    pacer.retry_at(*first[1].turn, Clock::now() + 1h); // not the event: changes nothing
    const auto start = Clock::now();
    auto retry = turns(ioc, pacer, 2);
    BOOST_TEST((retry[0].at - start >= 20ms));
    BOOST_TEST((retry[0].at - start < 900ms));         // not after half a gap (1 s)
    BOOST_TEST((retry[1].at - retry[0].at >= 1000ms)); // the next: at least half a gap later
}

BOOST_AUTO_TEST_CASE(events_double_the_gap_and_answers_shrink_it_until_pacing_ends)
{
    asio::io_context ioc;
    SendPacer pacer(ioc, PacingPolicy{1ms, 3ms, 1ms}, 3);
    std::vector<double> gaps;
    for (int i = 0; i < 3; ++i) {
        auto g = turns(ioc, pacer, 1);
        BOOST_TEST(pacer.throttled(*g[0].turn));
        gaps.push_back(pacer.gap("k").count());
    }
    BOOST_TEST(gaps == (std::vector<double>{1.0, 2.0, 3.0})); // doubled, then capped
    auto g = turns(ioc, pacer, 1);
    pacer.answered(*g[0].turn);
    BOOST_TEST(pacer.gap("k").count() == 2.25, boost::test_tools::tolerance(1e-9));
    for (int i = 0; i < 20 && pacer.gap("k").count() > 0; ++i) {
        auto more = turns(ioc, pacer, 1);
        pacer.answered(*more[0].turn);
    }
    BOOST_TEST(pacer.gap("k").count() == 0.0); // 2.25 × 0.75^3 < 1 ms: pacing ended
}

BOOST_AUTO_TEST_CASE(answers_to_requests_sent_before_the_event_change_nothing)
{
    asio::io_context ioc;
    SendPacer pacer(ioc, PacingPolicy{50ms, 1000ms, 10ms}, 5);
    auto wave = turns(ioc, pacer, 2);
    pacer.throttled(*wave[0].turn);
    pacer.answered(*wave[1].turn); // sent before the event
    BOOST_TEST(pacer.gap("k").count() == 50.0);
}

BOOST_AUTO_TEST_CASE(a_turn_past_the_deadline_is_not_waited_for)
{
    asio::io_context ioc;
    SendPacer pacer(ioc, PacingPolicy{10s, 10s, 10ms}, 9);
    auto first = turns(ioc, pacer, 1);
    pacer.throttled(*first[0].turn);
    Got late;
    const auto start = Clock::now();
    asio::co_spawn(ioc, wait(pacer, "k", Clock::now() + 100ms, late), rethrow);
    ioc.restart();
    ioc.run();
    BOOST_TEST(late.gave_up);
    BOOST_TEST((late.at - start < 5s)); // at once: its turn (≥ 5 s away) is past the deadline
}

BOOST_AUTO_TEST_SUITE_END()
