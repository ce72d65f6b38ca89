// The plain-HTTP CONNECT proxy of secrun_fake_cloud.
//
// It tunnels only to loopback targets (127.0.0.1, ::1, localhost): a test can
// never reach the outside world through it. Other targets are answered 403
// and counted as refused. Like a real proxy it resolves names its clients
// cannot: any name under fake-cloud.test (the test CA's leaves carry
// DNS:*.fake-cloud.test) is 127.0.0.1. Clients never use a proxy for loopback
// addresses, so such a name is how a test sends a request through it.
//
// With "proxy": {"basic_auth": "user:pass"} in the scenario, a CONNECT
// without matching Proxy-Authorization gets 407 with a Proxy-Authenticate
// challenge.
#include "fake_cloud_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <charconv>

namespace secrun::fakes
{

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto use_awaitable = net::use_awaitable;

namespace
{

// Both ends of a tunnel; each pumping coroutine holds it, and the first
// direction to end closes both sockets so the other one ends too.
struct Tunnel {
    explicit Tunnel(tcp::socket c) : client(std::move(c)), upstream(client.get_executor()) {}
    tcp::socket client;
    tcp::socket upstream;

    void close()
    {
        boost::system::error_code ec;
        client.shutdown(tcp::socket::shutdown_both, ec);
        client.close(ec);
        upstream.shutdown(tcp::socket::shutdown_both, ec);
        upstream.close(ec);
    }
};

// Copies bytes from `from` to `to` until either side fails.
net::awaitable<void> pump(std::shared_ptr<Tunnel> tunnel, bool client_to_upstream)
{
    tcp::socket& from = client_to_upstream ? tunnel->client : tunnel->upstream;
    tcp::socket& to = client_to_upstream ? tunnel->upstream : tunnel->client;
    std::array<char, 16 * 1024> buf;
    for (;;) {
        auto [read_ec, n] =
            co_await from.async_read_some(net::buffer(buf), net::as_tuple(use_awaitable));
        if (read_ec)
            break;
        auto [write_ec, written] =
            co_await net::async_write(to, net::buffer(buf.data(), n), net::as_tuple(use_awaitable));
        if (write_ec)
            break;
    }
    tunnel->close();
}

struct Target {
    std::string host;
    unsigned short port = 0;
};

// "host:port" or "[v6]:port".
std::optional<Target> parse_target(std::string_view text)
{
    Target t;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string_view::npos)
            return std::nullopt;
        t.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return std::nullopt;
        t.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), t.port);
    if (ec != std::errc{} || end != port.data() + port.size() || t.port == 0)
        return std::nullopt;
    return t;
}

// True for "fake-cloud.test" and any name under it, in any letter case.
bool is_fake_cloud_name(std::string_view host)
{
    constexpr std::string_view domain = "fake-cloud.test";
    if (host.size() < domain.size())
        return false;
    const std::string_view tail = host.substr(host.size() - domain.size());
    if (!beast::iequals(tail, domain))
        return false;
    return host.size() == domain.size() || host[host.size() - domain.size() - 1] == '.';
}

std::optional<net::ip::address> loopback_address(const std::string& host)
{
    if (host == "localhost" || is_fake_cloud_name(host))
        return net::ip::make_address("127.0.0.1");
    boost::system::error_code ec;
    const auto address = net::ip::make_address(host, ec);
    if (ec || !address.is_loopback())
        return std::nullopt;
    return address;
}

std::string base64_encode(std::string_view data)
{
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(data[i]) << 16U) |
                           (static_cast<unsigned char>(data[i + 1]) << 8U) |
                           static_cast<unsigned char>(data[i + 2]);
        out += alphabet[(v >> 18U) & 63U];
        out += alphabet[(v >> 12U) & 63U];
        out += alphabet[(v >> 6U) & 63U];
        out += alphabet[v & 63U];
    }
    if (i + 1 == data.size()) {
        const unsigned v = static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 16U;
        out += alphabet[(v >> 18U) & 63U];
        out += alphabet[(v >> 12U) & 63U];
        out += "==";
    } else if (i + 2 == data.size()) {
        const unsigned v = (static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 16U) |
                           (static_cast<unsigned>(static_cast<unsigned char>(data[i + 1])) << 8U);
        out += alphabet[(v >> 18U) & 63U];
        out += alphabet[(v >> 12U) & 63U];
        out += alphabet[(v >> 6U) & 63U];
        out += '=';
    }
    return out;
}

net::awaitable<void> refuse(tcp::socket& socket, http::status status, std::string_view body,
                            std::string_view challenge = {})
{
    http::response<http::string_body> res{status, 11};
    res.set(http::field::server, "secrun-fake-cloud");
    if (!challenge.empty())
        res.set(http::field::proxy_authenticate, challenge);
    res.set(http::field::content_type, "text/plain");
    res.body() = std::string(body);
    res.keep_alive(false);
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(socket, res, net::as_tuple(use_awaitable));
    (void)ec;
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

} // namespace

net::awaitable<void> proxy_session(tcp::socket socket, std::shared_ptr<ServerState> state)
{
    auto tunnel = std::make_shared<Tunnel>(std::move(socket));
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    auto [read_ec, read_bytes] =
        co_await http::async_read(tunnel->client, buffer, parser, net::as_tuple(use_awaitable));
    if (read_ec)
        co_return;
    const auto& req = parser.get();
    const std::string target(req.target());

    if (req.method() != http::verb::connect) {
        ++state->stats.proxy_refused;
        state->flush_stats();
        state->log("proxy: refused " + std::string(req.method_string()) + " " + target);
        co_await refuse(tunnel->client, http::status::method_not_allowed,
                        "fake_cloud proxy: only CONNECT is supported\n");
        co_return;
    }
    if (!state->scenario.proxy_basic_auth.empty()) {
        const std::string expected = "Basic " + base64_encode(state->scenario.proxy_basic_auth);
        if (req[http::field::proxy_authorization] != expected) {
            ++state->stats.proxy_auth_failures;
            state->flush_stats();
            state->log("proxy: CONNECT " + target + " -> 407");
            co_await refuse(tunnel->client, http::status::proxy_authentication_required,
                            "fake_cloud proxy: credentials required\n",
                            "Basic realm=\"secrun-fake-cloud\"");
            co_return;
        }
    }
    const auto parsed = parse_target(target);
    const auto address = parsed ? loopback_address(parsed->host) : std::nullopt;
    if (!address) {
        ++state->stats.proxy_refused;
        state->flush_stats();
        state->log("proxy: CONNECT " + target + " -> 403 (not a loopback target)");
        co_await refuse(tunnel->client, http::status::forbidden,
                        "fake_cloud proxy: only loopback targets are allowed\n");
        co_return;
    }

    auto [connect_ec] = co_await tunnel->upstream.async_connect(
        tcp::endpoint(*address, parsed->port), net::as_tuple(use_awaitable));
    if (connect_ec) {
        state->log("proxy: CONNECT " + target + " -> 502 (" + connect_ec.message() + ")");
        co_await refuse(tunnel->client, http::status::bad_gateway,
                        "fake_cloud proxy: cannot connect to the target\n");
        co_return;
    }
    ++state->stats.proxy_tunnels;
    state->flush_stats();
    state->log("proxy: CONNECT " + target + " -> 200");

    static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
    auto [ok_ec, ok_bytes] = co_await net::async_write(tunnel->client, net::buffer(established),
                                                       net::as_tuple(use_awaitable));
    if (ok_ec) {
        tunnel->close();
        co_return;
    }
    // Bytes the client sent right after its CONNECT header (a ClientHello
    // sent without waiting) were read into `buffer` already.
    if (buffer.size() > 0) {
        auto [early_ec, early_bytes] = co_await net::async_write(tunnel->upstream, buffer.data(),
                                                                 net::as_tuple(use_awaitable));
        if (early_ec) {
            tunnel->close();
            co_return;
        }
    }
    net::co_spawn(tunnel->client.get_executor(), pump(tunnel, false),
                  [](std::exception_ptr) {}); // pump() does not throw: every error is a tuple
    co_await pump(tunnel, true);
}

} // namespace secrun::fakes
