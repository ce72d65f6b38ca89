// Internals of secrun_fake_cloud shared by its sessions: the server state,
// the statistics, and the coroutines that serve each port. Vendor fakes do
// not include this header (they use fake_cloud.hpp).
#pragma once

#include "fake_cloud.hpp"
#include "fake_cloud_scenario.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::fakes
{

enum class Port { https, http, proxy };

struct Stats {
    std::uint64_t https_connections = 0;
    std::uint64_t http_connections = 0;
    std::uint64_t proxy_connections = 0;
    std::uint64_t tls_handshakes = 0;         // completed server handshakes
    std::uint64_t tls_handshake_failures = 0; // e.g. the client rejected our certificate
    std::uint64_t requests_total = 0;
    std::uint64_t faults_applied = 0;
    std::uint64_t throttled = 0; // answered by the scenario's rate limit
    std::uint64_t proxy_tunnels = 0;       // CONNECTs that were answered 200
    std::uint64_t proxy_auth_failures = 0; // CONNECTs answered 407
    std::uint64_t proxy_refused = 0;       // CONNECTs to a non-loopback host, or not CONNECT
    std::map<std::string, std::uint64_t, std::less<>> requests; // "GET /path" -> n

    // The stats file's JSON (documented in fake_cloud_main.cpp).
    [[nodiscard]] boost::json::object to_json(const Counters& vendor) const;
};

// State shared by every session. Coroutines hold it through a shared_ptr, so
// it lives until the last coroutine frame is destroyed with the io_context;
// it owns nothing bound to the io_context.
class ServerState
{
public:
    ServerState(Scenario scenario, boost::asio::ssl::context tls, std::filesystem::path stats_path,
                bool log_requests);

    Scenario scenario;
    Routes routes;
    Counters counters;
    Stats stats;
    ServerInfo info;
    boost::asio::ssl::context tls;

    // Rewrites the stats file atomically. Called after every counted event,
    // before the response is written, so a client that has its answer sees
    // the counters that include its request.
    void flush_stats();
    // One line to stderr when request logging is on.
    void log(std::string_view line) const;
    // The vendor answer for `request`, or the core's 404.
    [[nodiscard]] HttpResponse answer(const HttpRequest& request) const;

private:
    std::filesystem::path stats_path_;
    bool log_requests_;
    bool stats_error_reported_ = false;
};

// Writes `text` to `path` through a temporary file and rename(2), so readers
// never see a partial file. Returns an error message on failure.
[[nodiscard]] std::optional<std::string> write_file_atomically(const std::filesystem::path& path,
                                                               std::string_view text);

// Accepts connections forever on `acceptor` and serves each on its own
// coroutine. Ends when the acceptor is closed.
boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor acceptor, Port port,
                                         std::shared_ptr<ServerState> state);

// One connection of each kind (fake_cloud_sessions.cpp, fake_cloud_proxy.cpp).
boost::asio::awaitable<void> https_session(boost::asio::ip::tcp::socket socket,
                                           std::shared_ptr<ServerState> state);
boost::asio::awaitable<void> http_session(boost::asio::ip::tcp::socket socket,
                                          std::shared_ptr<ServerState> state);
boost::asio::awaitable<void> proxy_session(boost::asio::ip::tcp::socket socket,
                                           std::shared_ptr<ServerState> state);

} // namespace secrun::fakes
