// Connection slots per host for the HTTPS client: at most `limit` connections
// per key (scheme://host:port), idle ones kept for reuse, callers beyond the
// bound served first come, first served, each until its deadline.
//
// Header-only over the connection type so that it knows nothing of Beast
// (beast_client.cpp is its only product user; tests use a dummy type).
// Single-threaded: everything runs on the io_context given.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace secrun::https {

template <class Connection>
class Pool {
public:
    using Clock = std::chrono::steady_clock;

    // The right to one connection to a host. When it is destroyed, whatever
    // is left in `connection` is kept for reuse (reset it when the connection
    // must not be reused) and the slot goes to the next waiter.
    class Lease {
    public:
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease()
        {
            if (pool_)
                pool_->release(key_, std::move(connection));
        }

        std::unique_ptr<Connection> connection; // null: open a new one

    private:
        friend class Pool;
        Lease(std::shared_ptr<Pool> pool, std::string key)
            : pool_(std::move(pool)), key_(std::move(key))
        {
        }
        std::shared_ptr<Pool> pool_;
        std::string key_;
    };

    Pool(boost::asio::io_context& ioc, unsigned limit) : ioc_(ioc), limit_(std::max(1u, limit)) {}

    /// A lease for `key`, holding the most recently kept idle connection if
    /// there is one. Waits while `limit` leases for the key are out; nullopt
    /// when `deadline` passes first. Leases keep the pool alive.
    static boost::asio::awaitable<std::optional<Lease>>
    acquire(std::shared_ptr<Pool> self, std::string key, Clock::time_point deadline)
    {
        Host& host = self->hosts_[key];
        if (!host.idle.empty()) {
            Lease lease(self, key);
            lease.connection = std::move(host.idle.back());
            host.idle.pop_back();
            co_return lease;
        }
        if (host.taken < self->limit_) {
            ++host.taken;
            co_return Lease(self, key);
        }
        auto waiter = std::make_shared<Waiter>(self->ioc_);
        waiter->timer.expires_at(deadline);
        host.waiters.push_back(waiter);
        // Runs however this frame ends, including its destruction while
        // suspended (an io_context destroyed at the deadline).
        const Abandon abandon{*self, key, *waiter};
        co_await waiter->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (!waiter->granted)
            co_return std::nullopt;
        waiter->granted = false; // the lease owns the slot now
        Lease lease(self, key);
        lease.connection = std::move(waiter->connection);
        co_return lease;
    }

    /// Idle connections kept for `key`.
    [[nodiscard]] std::size_t idle(const std::string& key) const
    {
        const auto it = hosts_.find(key);
        return it == hosts_.end() ? 0 : it->second.idle.size();
    }

private:
    struct Waiter {
        explicit Waiter(boost::asio::io_context& ioc) : timer(ioc) {}
        boost::asio::steady_timer timer; // cancelled when a slot is granted
        bool granted = false;
        bool gone = false;                      // no longer waiting: skip it
        std::unique_ptr<Connection> connection; // handed over with the slot, if any
    };

    struct Host {
        std::vector<std::unique_ptr<Connection>> idle;
        unsigned taken = 0; // slots out as leases, granted, or holding an idle connection
        std::deque<std::shared_ptr<Waiter>> waiters;
    };

    struct Abandon {
        Pool& pool;
        const std::string& key;
        Waiter& waiter;
        ~Abandon()
        {
            if (waiter.granted) // granted, but its frame never resumed
                pool.release(key, std::move(waiter.connection));
            waiter.gone = true;
        }
    };

    void release(const std::string& key, std::unique_ptr<Connection> connection)
    {
        Host& host = hosts_[key];
        while (!host.waiters.empty()) {
            const auto waiter = std::move(host.waiters.front());
            host.waiters.pop_front();
            if (waiter->gone)
                continue;
            waiter->granted = true;
            waiter->connection = std::move(connection);
            waiter->timer.cancel();
            return;
        }
        if (connection)
            host.idle.push_back(std::move(connection));
        else
            --host.taken;
    }

    boost::asio::io_context& ioc_;
    unsigned limit_;
    std::map<std::string, Host, std::less<>> hosts_;
};

} // namespace secrun::https
