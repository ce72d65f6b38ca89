#include "mini_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <exception>
#include <strings.h>

namespace secrun::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_awaitable = asio::use_awaitable;

// A server coroutine that throws is a bug in the test: make ioc.run() throw.
void rethrow_error(std::exception_ptr e)
{
    if (e)
        std::rethrow_exception(e);
}

tcp::endpoint loopback(unsigned short port)
{
    return {asio::ip::make_address("127.0.0.1"), port};
}

} // namespace

std::optional<std::string> Seen::header(std::string_view name) const
{
    for (const auto& [key, value] : headers)
        if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), key.size()) == 0)
            return value;
    return std::nullopt;
}

struct MiniServer::State {
    State(asio::io_context& ioc, std::shared_ptr<ssl::context> context)
        : acceptor(ioc, loopback(0)), tls(std::move(context))
    {
    }
    tcp::acceptor acceptor;
    std::shared_ptr<ssl::context> tls;
    std::deque<Reply> script;
    std::vector<Seen> seen;
    unsigned connections = 0;
    unsigned handshakes = 0;
    unsigned failed_handshakes = 0;
    unsigned open = 0;
    unsigned max_open = 0;

    Reply next()
    {
        if (script.empty())
            return Reply{};
        Reply r = std::move(script.front());
        script.pop_front();
        return r;
    }
};

namespace {

using ServerState = std::shared_ptr<MiniServer::State>;

// Serves requests on one connection until the client closes it or the
// script says otherwise. `stream` and `raw` belong to the caller's frame.
template <class Stream>
asio::awaitable<void> serve(ServerState state, Stream& stream, tcp::socket& raw, unsigned number)
{
    beast::flat_buffer buffer;
    error_code ignored;
    for (;;) {
        http::request<http::string_body> req;
        const auto [read_ec, n] =
            co_await http::async_read(stream, buffer, req, asio::as_tuple(use_awaitable));
        if (read_ec)
            co_return;
        Seen seen;
        seen.method = std::string(req.method_string());
        seen.target = std::string(req.target());
        for (const auto& field : req)
            seen.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        seen.body = req.body();
        seen.connection = number;
        state->seen.push_back(std::move(seen));

        const Reply reply = state->next();
        if (reply.delay.count() > 0) {
            asio::steady_timer pause(raw.get_executor());
            pause.expires_after(reply.delay);
            co_await pause.async_wait(asio::as_tuple(use_awaitable));
        }
        switch (reply.kind) {
        case Reply::Kind::stall: {
            asio::steady_timer forever(raw.get_executor(),
                                       asio::steady_timer::time_point::max());
            co_await forever.async_wait(asio::as_tuple(use_awaitable));
            co_return;
        }
        case Reply::Kind::reset:
            raw.set_option(asio::socket_base::linger(true, 0), ignored);
            raw.close(ignored);
            co_return;
        case Reply::Kind::close_mid_body:
        case Reply::Kind::reset_mid_body: {
            const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: " +
                                        std::to_string(reply.body.size()) + "\r\n\r\n" +
                                        reply.body.substr(0, reply.body.size() / 2);
            co_await asio::async_write(stream, asio::buffer(partial),
                                       asio::as_tuple(use_awaitable));
            if (reply.kind == Reply::Kind::reset_mid_body) {
                // Let the client read the first bytes, then RST.
                asio::steady_timer pause(raw.get_executor());
                pause.expires_after(std::chrono::milliseconds(100));
                co_await pause.async_wait(asio::as_tuple(use_awaitable));
                raw.set_option(asio::socket_base::linger(true, 0), ignored);
            }
            raw.close(ignored);
            co_return;
        }
        case Reply::Kind::respond:
            break;
        }

        http::response<http::string_body> res;
        res.version(11);
        res.result(reply.status);
        for (const auto& [name, value] : reply.headers)
            res.insert(name, value);
        res.body() = reply.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        const auto [write_ec, written] =
            co_await http::async_write(stream, res, asio::as_tuple(use_awaitable));
        if (write_ec || !req.keep_alive() || reply.close_after) {
            raw.close(ignored);
            co_return;
        }
    }
}

asio::awaitable<void> session(ServerState state, tcp::socket socket)
{
    const unsigned number = ++state->connections;
    state->max_open = std::max(state->max_open, ++state->open);
    struct Closed {
        MiniServer::State& s;
        ~Closed() { --s.open; }
    } closed{*state};

    if (!state->tls) {
        auto serving = serve(state, socket, socket, number); // GCC 12: task on its own line
        co_await std::move(serving);
        co_return;
    }
    ssl::stream<tcp::socket> stream(std::move(socket), *state->tls);
    const auto [ec] =
        co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(use_awaitable));
    if (ec) {
        ++state->failed_handshakes;
        co_return;
    }
    ++state->handshakes;
    auto serving = serve(state, stream, stream.next_layer(), number);
    co_await std::move(serving);
}

asio::awaitable<void> accept_loop(ServerState state)
{
    for (;;) {
        auto [ec, socket] = co_await state->acceptor.async_accept(asio::as_tuple(use_awaitable));
        if (ec)
            co_return;
        asio::co_spawn(state->acceptor.get_executor(), session(state, std::move(socket)),
                       rethrow_error);
    }
}

} // namespace

MiniServer::MiniServer(asio::io_context& ioc, std::shared_ptr<ssl::context> tls)
    : state_(std::make_shared<State>(ioc, std::move(tls)))
{
    asio::co_spawn(ioc, accept_loop(state_), rethrow_error);
}

MiniServer::~MiniServer()
{
    error_code ignored;
    state_->acceptor.close(ignored);
}

unsigned short MiniServer::port() const { return state_->acceptor.local_endpoint().port(); }
void MiniServer::script(std::vector<Reply> replies)
{
    for (auto& r : replies)
        state_->script.push_back(std::move(r));
}
const std::vector<Seen>& MiniServer::requests() const { return state_->seen; }
unsigned MiniServer::connections() const { return state_->connections; }
unsigned MiniServer::handshakes() const { return state_->handshakes; }
unsigned MiniServer::failed_handshakes() const { return state_->failed_handshakes; }
unsigned MiniServer::max_concurrent() const { return state_->max_open; }

struct MiniProxy::State {
    State(asio::io_context& ioc, unsigned short target, std::string expected_auth)
        : acceptor(ioc, loopback(0)), target_port(target), expected(std::move(expected_auth))
    {
    }
    tcp::acceptor acceptor;
    unsigned short target_port;
    std::string expected;
    std::vector<std::string> targets;
    std::vector<std::string> authorizations;
};

namespace {

using ProxyState = std::shared_ptr<MiniProxy::State>;

struct Tunnel {
    Tunnel(tcp::socket client, tcp::socket server) : a(std::move(client)), b(std::move(server)) {}
    tcp::socket a; // the client
    tcp::socket b; // the upstream server
};

// Copies bytes one way until either side closes, then closes both.
asio::awaitable<void> pump(std::shared_ptr<Tunnel> tunnel, bool upstream)
{
    tcp::socket& from = upstream ? tunnel->a : tunnel->b;
    tcp::socket& to = upstream ? tunnel->b : tunnel->a;
    std::array<char, 16384> chunk{};
    for (;;) {
        const auto [read_ec, n] =
            co_await from.async_read_some(asio::buffer(chunk), asio::as_tuple(use_awaitable));
        if (read_ec)
            break;
        const auto [write_ec, written] = co_await asio::async_write(
            to, asio::buffer(chunk.data(), n), asio::as_tuple(use_awaitable));
        if (write_ec)
            break;
    }
    error_code ignored;
    tunnel->a.close(ignored);
    tunnel->b.close(ignored);
}

asio::awaitable<void> proxy_session(ProxyState state, tcp::socket client)
{
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    const auto [read_ec, n] =
        co_await http::async_read(client, buffer, parser, asio::as_tuple(use_awaitable));
    if (read_ec)
        co_return;
    const auto& req = parser.get();
    const std::string authorization(req[http::field::proxy_authorization]);
    state->targets.emplace_back(req.target());
    state->authorizations.push_back(authorization);
    if (req.method() != http::verb::connect ||
        (!state->expected.empty() && authorization != state->expected)) {
        static constexpr std::string_view denied =
            "HTTP/1.1 407 Proxy Authentication Required\r\n"
            "Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n";
        co_await asio::async_write(client, asio::buffer(denied), asio::as_tuple(use_awaitable));
        co_return;
    }
    auto tunnel =
        std::make_shared<Tunnel>(std::move(client), tcp::socket(state->acceptor.get_executor()));
    const auto [connect_ec] = co_await tunnel->b.async_connect(loopback(state->target_port),
                                                               asio::as_tuple(use_awaitable));
    if (connect_ec)
        co_return;
    static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
    const auto [write_ec, written] = co_await asio::async_write(
        tunnel->a, asio::buffer(established), asio::as_tuple(use_awaitable));
    if (write_ec)
        co_return;
    asio::co_spawn(state->acceptor.get_executor(), pump(tunnel, true), rethrow_error);
    asio::co_spawn(state->acceptor.get_executor(), pump(tunnel, false), rethrow_error);
}

asio::awaitable<void> proxy_accept_loop(ProxyState state)
{
    for (;;) {
        auto [ec, socket] = co_await state->acceptor.async_accept(asio::as_tuple(use_awaitable));
        if (ec)
            co_return;
        asio::co_spawn(state->acceptor.get_executor(), proxy_session(state, std::move(socket)),
                       rethrow_error);
    }
}

} // namespace

MiniProxy::MiniProxy(asio::io_context& ioc, unsigned short target_port,
                     std::string expected_authorization)
    : state_(std::make_shared<State>(ioc, target_port, std::move(expected_authorization)))
{
    asio::co_spawn(ioc, proxy_accept_loop(state_), rethrow_error);
}

MiniProxy::~MiniProxy()
{
    error_code ignored;
    state_->acceptor.close(ignored);
}

unsigned short MiniProxy::port() const { return state_->acceptor.local_endpoint().port(); }
const std::vector<std::string>& MiniProxy::connect_targets() const { return state_->targets; }
const std::vector<std::string>& MiniProxy::authorizations() const
{
    return state_->authorizations;
}

} // namespace secrun::testing
