#include "https/pool.hpp"

#include <boost/test/unit_test.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <exception>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

struct Dummy {
    int opened_by = 0;
};
using TestPool = secrun::https::Pool<Dummy>;
using Clock = TestPool::Clock;

// Takes a lease, notes what it got, opens a "connection" when it got none,
// holds it for `hold` and gives it back (kept, unless `drop`).
// `log` is owned by the test and outlives ioc.run().
asio::awaitable<void> take(std::shared_ptr<TestPool> pool, std::string key, int id,
                           Clock::time_point deadline, std::chrono::milliseconds hold,
                           std::vector<std::string>& log, bool drop = false)
{
    std::optional<TestPool::Lease> lease =
        co_await TestPool::acquire(std::move(pool), std::move(key), deadline);
    if (!lease) {
        log.push_back(std::to_string(id) + " gave up");
        co_return;
    }
    if (lease->connection) {
        log.push_back(std::to_string(id) + " reused " +
                      std::to_string(lease->connection->opened_by));
    } else {
        log.push_back(std::to_string(id) + " opened");
        lease->connection = std::make_unique<Dummy>(Dummy{id});
    }
    asio::steady_timer pause(co_await asio::this_coro::executor);
    pause.expires_after(hold);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    if (drop)
        lease->connection.reset();
}

void rethrow(std::exception_ptr e)
{
    if (e)
        std::rethrow_exception(e);
}

const Clock::time_point far = Clock::now() + 1h;

} // namespace

BOOST_AUTO_TEST_SUITE(pool)

BOOST_AUTO_TEST_CASE(one_slot_is_reused_in_arrival_order)
{
    asio::io_context ioc;
    auto pool = std::make_shared<TestPool>(ioc, 1);
    std::vector<std::string> log;
    for (int id = 1; id <= 3; ++id)
        asio::co_spawn(ioc, take(pool, "https://a:443", id, far, 20ms, log), rethrow);
    ioc.run();
    BOOST_TEST(log == (std::vector<std::string>{"1 opened", "2 reused 1", "3 reused 1"}));
    BOOST_TEST(pool->idle("https://a:443") == 1u);
}

BOOST_AUTO_TEST_CASE(opens_up_to_the_limit_then_waits)
{
    asio::io_context ioc;
    auto pool = std::make_shared<TestPool>(ioc, 2);
    std::vector<std::string> log;
    asio::co_spawn(ioc, take(pool, "k", 1, far, 20ms, log), rethrow);
    asio::co_spawn(ioc, take(pool, "k", 2, far, 60ms, log), rethrow);
    asio::co_spawn(ioc, take(pool, "k", 3, far, 0ms, log), rethrow);
    asio::co_spawn(ioc, take(pool, "k", 4, far, 0ms, log), rethrow);
    ioc.run();
    BOOST_TEST(log ==
               (std::vector<std::string>{"1 opened", "2 opened", "3 reused 1", "4 reused 1"}));
    BOOST_TEST(pool->idle("k") == 2u);
}

BOOST_AUTO_TEST_CASE(a_dropped_connection_frees_its_slot)
{
    asio::io_context ioc;
    auto pool = std::make_shared<TestPool>(ioc, 1);
    std::vector<std::string> log;
    asio::co_spawn(ioc, take(pool, "k", 1, far, 10ms, log, true), rethrow);
    asio::co_spawn(ioc, take(pool, "k", 2, far, 0ms, log), rethrow);
    ioc.run();
    BOOST_TEST(log == (std::vector<std::string>{"1 opened", "2 opened"}));
    BOOST_TEST(pool->idle("k") == 1u);
}

BOOST_AUTO_TEST_CASE(a_waiter_gives_up_at_its_deadline_and_loses_nothing)
{
    asio::io_context ioc;
    auto pool = std::make_shared<TestPool>(ioc, 1);
    std::vector<std::string> log;
    asio::co_spawn(ioc, take(pool, "k", 1, far, 100ms, log), rethrow);
    asio::co_spawn(ioc, take(pool, "k", 2, Clock::now() + 30ms, 0ms, log), rethrow);
    ioc.run();
    // The slot the impatient waiter left is not leaked nor granted twice.
    asio::co_spawn(ioc, take(pool, "k", 3, far, 0ms, log), rethrow);
    asio::co_spawn(ioc, take(pool, "k", 4, far, 0ms, log), rethrow);
    ioc.restart();
    ioc.run();
    BOOST_TEST(log == (std::vector<std::string>{"1 opened", "2 gave up", "3 reused 1",
                                                "4 reused 1"}));
    BOOST_TEST(pool->idle("k") == 1u);
}

BOOST_AUTO_TEST_CASE(hosts_do_not_share_slots)
{
    asio::io_context ioc;
    auto pool = std::make_shared<TestPool>(ioc, 1);
    std::vector<std::string> log;
    asio::co_spawn(ioc, take(pool, "https://a:443", 1, far, 50ms, log), rethrow);
    asio::co_spawn(ioc, take(pool, "https://b:443", 2, far, 0ms, log), rethrow);
    ioc.run();
    BOOST_TEST(log == (std::vector<std::string>{"1 opened", "2 opened"}));
}

BOOST_AUTO_TEST_CASE(a_limit_of_zero_means_one)
{
    asio::io_context ioc;
    auto pool = std::make_shared<TestPool>(ioc, 0);
    std::vector<std::string> log;
    asio::co_spawn(ioc, take(pool, "k", 1, far, 10ms, log), rethrow);
    asio::co_spawn(ioc, take(pool, "k", 2, far, 0ms, log), rethrow);
    ioc.run();
    BOOST_TEST(log == (std::vector<std::string>{"1 opened", "2 reused 1"}));
}

BOOST_AUTO_TEST_CASE(waiters_destroyed_with_the_io_context_release_cleanly)
{
    std::vector<std::string> log;
    {
        asio::io_context ioc;
        auto pool = std::make_shared<TestPool>(ioc, 1);
        for (int id = 1; id <= 3; ++id)
            asio::co_spawn(ioc, take(pool, "k", id, far, 1h, log), rethrow);
        ioc.run_for(20ms);
        pool.reset(); // the suspended frames keep it alive until the io_context goes
    }
    BOOST_TEST(log == (std::vector<std::string>{"1 opened"}));
}

BOOST_AUTO_TEST_SUITE_END()
