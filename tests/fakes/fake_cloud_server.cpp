#include "fake_cloud_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace secrun::fakes
{

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto use_awaitable = net::use_awaitable;

boost::json::object Stats::to_json(const Counters& vendor) const
{
    boost::json::object requests_by_route;
    for (const auto& [route, n] : requests)
        requests_by_route[route] = n;
    boost::json::object vendor_counters;
    for (const auto& [name, n] : vendor.all())
        vendor_counters[name] = n;
    return boost::json::object{
        {"connections",
         {{"https", https_connections}, {"http", http_connections}, {"proxy", proxy_connections}}},
        {"tls_handshakes", tls_handshakes},
        {"tls_handshake_failures", tls_handshake_failures},
        {"requests_total", requests_total},
        {"requests", std::move(requests_by_route)},
        {"faults_applied", faults_applied},
        {"throttled", throttled},
        {"proxy_tunnels", proxy_tunnels},
        {"proxy_auth_failures", proxy_auth_failures},
        {"proxy_refused", proxy_refused},
        {"vendor", std::move(vendor_counters)},
    };
}

ServerState::ServerState(Scenario s, net::ssl::context tls_context,
                         std::filesystem::path stats_path, bool log_requests)
    : scenario(std::move(s)), tls(std::move(tls_context)), stats_path_(std::move(stats_path)),
      log_requests_(log_requests)
{
}

void ServerState::flush_stats()
{
    const std::string text = boost::json::serialize(stats.to_json(counters));
    if (auto error = write_file_atomically(stats_path_, text); error && !stats_error_reported_) {
        std::cerr << "fake_cloud: " << *error << '\n';
        stats_error_reported_ = true;
    }
}

void ServerState::log(std::string_view line) const
{
    if (log_requests_)
        std::cerr << "fake_cloud: " << line << '\n';
}

HttpResponse ServerState::answer(const HttpRequest& request) const
{
    if (auto response = routes.dispatch(request))
        return std::move(*response);
    return HttpResponse::text(404, "fake_cloud: no route for " + request.method + " " +
                                       request.path + "\n");
}

std::optional<std::string> write_file_atomically(const std::filesystem::path& path,
                                                 std::string_view text)
{
    const std::filesystem::path tmp = path.string() + ".tmp";
    const auto failure = [](std::string_view what, const std::filesystem::path& p) {
        const std::error_code ec(errno, std::system_category());
        return std::string(what) + " " + p.string() + ": " + ec.message();
    };
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return failure("cannot create", tmp);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            auto error = failure("cannot write", tmp);
            ::close(fd);
            return error;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0)
        return failure("cannot close", tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return failure("cannot rename to", path);
    return std::nullopt;
}

namespace
{

void report_session_end(std::exception_ptr error)
{
    if (!error)
        return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::cerr << "fake_cloud: session ended with an exception: " << e.what() << '\n';
    }
}

} // namespace

net::awaitable<void> accept_loop(tcp::acceptor acceptor, Port port,
                                 std::shared_ptr<ServerState> state)
{
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(use_awaitable));
        if (ec == net::error::operation_aborted || !acceptor.is_open())
            co_return;
        if (ec) // EMFILE and friends: keep serving the connections we have
            continue;
        switch (port) {
        case Port::https:
            ++state->stats.https_connections;
            state->flush_stats();
            net::co_spawn(acceptor.get_executor(), https_session(std::move(socket), state),
                          report_session_end);
            break;
        case Port::http:
            ++state->stats.http_connections;
            state->flush_stats();
            net::co_spawn(acceptor.get_executor(), http_session(std::move(socket), state),
                          report_session_end);
            break;
        case Port::proxy:
            ++state->stats.proxy_connections;
            state->flush_stats();
            net::co_spawn(acceptor.get_executor(), proxy_session(std::move(socket), state),
                          report_session_end);
            break;
        }
    }
}

} // namespace secrun::fakes
