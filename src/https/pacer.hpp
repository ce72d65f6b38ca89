// Per-host pacing for the HTTPS client once a host throttles (429, AWS
// ThrottlingException), so that many processes starting at once do not keep a
// throttled backend saturated with requests it can only refuse.
//
// Nothing changes until a host throttles: no pacing, every request goes at
// once (the first wave stays as concurrent as the connection limit allows).
// A throttle answer to a request sent after the host's last throttle event
// is a new event: no request to the host leaves before that request's own
// retry (its backoff, https/retry.hpp, or its Retry-After), and from then on
// they leave one at a time, a jittered gap apart (uniform in [gap/2,
// 3 gap/2]); the gap starts at
// `first_gap` and doubles with each further event, up to `max_gap`. Throttle
// answers to requests sent before the event change nothing more (the host
// has already said so), and requests that had a place in line when an event
// came take a new one behind the longer gap. Each answer that is not a
// throttle, to a request sent after the last event, shrinks the gap by 25%;
// below `min_gap` pacing ends. Doubling on a throttle against -25% per answer
// settles, under sustained overload, where about 3 requests in 10 are
// refused, whatever the number of processes; other retries also wait their
// own backoff before they take a place in line.
// tests/bench/herd.py measures it (tests/bench/HERD.md).
//
// Header-only over asio timers (tests drive it without sockets).
// Single-threaded: everything runs on the io_context given.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace secrun::https
{

struct PacingPolicy {
    std::chrono::milliseconds first_gap{1000}; // after the first throttle event
    std::chrono::milliseconds max_gap{2000};
    std::chrono::milliseconds min_gap{10}; // a shorter gap ends pacing
};

class SendPacer
{
public:
    using Clock = std::chrono::steady_clock;
    using Gap = std::chrono::duration<double, std::milli>;

    // A request's turn: which throttle events of its host it was sent after.
    struct Turn {
        std::string key;
        unsigned epoch = 0;
        bool event = false; // its answer started a new event
    };

    SendPacer(boost::asio::io_context& ioc, PacingPolicy policy, std::uint64_t seed)
        : ioc_(ioc), policy_(policy), random_(seed)
    {
    }

    /// The moment a request to `key` may be sent: at once when the host is
    /// not paced, else its place in line. nullopt when `deadline` passes
    /// first. The pacer must outlive the wait (the client holds it).
    boost::asio::awaitable<std::optional<Turn>> wait_turn(std::string key,
                                                          Clock::time_point deadline)
    {
        Host& host = hosts_[key];
        for (;;) {
            if (host.gap.count() == 0)
                co_return Turn{std::move(key), host.epoch, false};
            const auto now = Clock::now();
            const auto slot = std::max(now, host.next_send);
            host.next_send = slot + std::chrono::duration_cast<Clock::duration>(jittered(host.gap));
            const unsigned reserved = host.epoch;
            if (slot > now) {
                if (slot >= deadline)
                    co_return std::nullopt; // no point waiting for a turn past the deadline
                boost::asio::steady_timer timer(ioc_);
                timer.expires_at(slot);
                co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            }
            if (host.epoch == reserved)
                co_return Turn{std::move(key), host.epoch, false};
            // An event came while this request waited: a new place, further back.
        }
    }

    /// The answer to `turn`'s request was a throttle. True when it started a
    /// new event (the request was sent after the host's last one).
    bool throttled(Turn& turn)
    {
        Host& h = hosts_[turn.key];
        if (turn.epoch == h.epoch) {
            turn.event = true;
            ++h.epoch;
            h.gap = h.gap.count() == 0 ? Gap(policy_.first_gap)
                                       : std::min(h.gap * 2, Gap(policy_.max_gap));
            h.next_send = std::max(
                h.next_send,
                Clock::now() + std::chrono::duration_cast<Clock::duration>(jittered(h.gap)));
        }
        return turn.event;
    }

    /// After an event: the throttled request retries at `at` (its own
    /// backoff, https/retry.hpp) and is the first to go then; the gap spaces
    /// the requests after it.
    void retry_at(const Turn& turn, Clock::time_point at)
    {
        if (turn.event)
            hosts_[turn.key].next_send = at;
    }

    /// The answer to `turn`'s request was not a throttle.
    void answered(const Turn& turn)
    {
        Host& h = hosts_[turn.key];
        if (turn.epoch != h.epoch)
            return; // sent before the last event: it says nothing about now
        h.gap *= 0.75;
        if (h.gap < Gap(policy_.min_gap))
            h.gap = Gap(0);
    }

    /// The host's current gap (zero: not paced), for tests.
    [[nodiscard]] Gap gap(const std::string& key) { return hosts_[key].gap; }

private:
    struct Host {
        Gap gap{0};
        Clock::time_point next_send{};
        unsigned epoch = 0; // throttle events so far
    };

    Gap jittered(Gap gap)
    {
        return gap * std::uniform_real_distribution<double>(0.5, 1.5)(random_);
    }

    boost::asio::io_context& ioc_;
    PacingPolicy policy_;
    std::mt19937_64 random_;
    std::map<std::string, Host, std::less<>> hosts_;
};

} // namespace secrun::https
