// The TLS and plain-HTTP sessions: HTTP/1.1 keep-alive, fault injection,
// dispatch to the vendor routes.
#include "fake_cloud_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <ctime>

namespace secrun::fakes
{

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto use_awaitable = net::use_awaitable;

namespace
{

// Request bodies are small (token forms, JSON); this bounds a runaway client.
constexpr std::uint64_t max_request_body = 8 * 1024 * 1024;

// How a connection ends once serve() returns.
enum class End {
    peer_closed, // the client closed or the read failed: nothing to do
    graceful,    // we answered "Connection: close": TLS close_notify, then close
    abrupt,      // close the TCP connection without TLS close_notify (truncate)
    reset,       // RST: SO_LINGER 0, then close
};

HttpRequest to_request(const http::request<http::string_body>& req, Listener listener)
{
    HttpRequest r;
    r.listener = listener;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    const auto question = r.target.find('?');
    r.path = percent_decode(std::string_view(r.target).substr(0, question), false);
    if (question != std::string::npos) {
        std::string_view query = std::string_view(r.target).substr(question + 1);
        while (!query.empty()) {
            const auto amp = query.find('&');
            const std::string_view pair = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
            if (pair.empty())
                continue;
            const auto eq = pair.find('=');
            r.query.emplace_back(percent_decode(pair.substr(0, eq), true),
                                 eq == std::string_view::npos
                                     ? std::string{}
                                     : percent_decode(pair.substr(eq + 1), true));
        }
    }
    for (const auto& field : req)
        r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    r.body = req.body();
    return r;
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), now.
std::string http_date()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return std::string(buf, n);
}

http::response<http::string_body> to_beast(HttpResponse r, unsigned version, bool keep_alive)
{
    http::response<http::string_body> res;
    res.version(version);
    res.result(r.status);
    res.set(http::field::server, "secrun-fake-cloud");
    res.set(http::field::date, http_date());
    for (auto& [name, value] : r.headers)
        res.insert(name, value);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

HttpResponse oversize_response(std::size_t size)
{
    // Well-formed JSON of exactly `size` bytes (when size allows): only the
    // client's size limit can reject it.
    constexpr std::string_view head = "{\"padding\":\"";
    constexpr std::string_view tail = "\"}";
    std::string body;
    if (size >= head.size() + tail.size()) {
        body.reserve(size);
        body.append(head);
        body.append(size - head.size() - tail.size(), 'a');
        body.append(tail);
    } else {
        body.assign(size, ' ');
    }
    HttpResponse r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    return r;
}

HttpResponse invalid_json_response()
{
    HttpResponse r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = "{\"messages\": [\"this body is cut off";
    return r;
}

// The status line and headers of `r` promising its full length, followed by
// only the first half of its body.
std::string truncated_bytes(const HttpResponse& r)
{
    const auto status = http::int_to_status(r.status);
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                      std::string(http::obsolete_reason(status)) + "\r\n";
    for (const auto& [name, value] : r.headers)
        out += name + ": " + value + "\r\n";
    const std::size_t promised = r.body.empty() ? 100 : r.body.size();
    out += "Content-Length: " + std::to_string(promised) + "\r\n\r\n";
    out.append(r.body, 0, r.body.size() / 2);
    return out;
}

net::awaitable<void> sleep_for(std::chrono::milliseconds duration)
{
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(duration);
    auto [ec] = co_await timer.async_wait(net::as_tuple(use_awaitable));
    (void)ec;
}

// Serves requests until the connection ends. `stream` is a local of the
// calling session coroutine, which awaits this one, so it outlives it.
template <class Stream>
net::awaitable<End> serve(Stream& stream, Listener listener, std::shared_ptr<ServerState> state)
{
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(max_request_body);
        auto [header_ec, header_bytes] =
            co_await http::async_read_header(stream, buffer, parser, net::as_tuple(use_awaitable));
        if (header_ec)
            co_return End::peer_closed;
        if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
            http::response<http::empty_body> cont{http::status::continue_, 11};
            auto [cont_ec, cont_bytes] =
                co_await http::async_write(stream, cont, net::as_tuple(use_awaitable));
            if (cont_ec)
                co_return End::peer_closed;
        }
        auto [body_ec, body_bytes] =
            co_await http::async_read(stream, buffer, parser, net::as_tuple(use_awaitable));
        if (body_ec)
            co_return End::peer_closed;

        const http::request<http::string_body>& req = parser.get();
        const HttpRequest request = to_request(req, listener);
        const std::string route = request.method + " " + request.path;
        ++state->stats.requests_total;
        ++state->stats.requests[route];
        // The rate limit is the service's front door: a refused request
        // reaches neither a fault rule nor a handler.
        std::optional<HttpResponse> throttled =
            state->scenario.throttle(request, std::chrono::steady_clock::now());
        std::optional<FaultRule> fault;
        if (throttled)
            ++state->stats.throttled;
        else
            fault = state->scenario.take_fault(request);
        if (fault)
            ++state->stats.faults_applied;
        state->flush_stats();

        const unsigned delay = state->scenario.latency_ms + (fault ? fault->delay_ms : 0);
        if (delay > 0)
            co_await sleep_for(std::chrono::milliseconds(delay));

        HttpResponse response;
        const FaultAction action = fault ? fault->action : FaultAction::delay;
        switch (action) {
        case FaultAction::delay:
            response = throttled ? std::move(*throttled) : state->answer(request);
            break;
        case FaultAction::status:
            response.status = fault->status;
            response.headers = fault->headers;
            response.body = fault->body;
            break;
        case FaultAction::oversize:
            response = oversize_response(fault->size);
            break;
        case FaultAction::invalid_json:
            response = invalid_json_response();
            break;
        case FaultAction::reset:
            state->log(route + " -> fault reset");
            co_return End::reset;
        case FaultAction::stall:
            state->log(route + " -> fault stall");
            for (;;) // until the server exits; the client gives up on its own
                co_await sleep_for(std::chrono::hours(24));
        case FaultAction::truncate:
        case FaultAction::reset_mid: {
            const std::string bytes = truncated_bytes(state->answer(request));
            state->flush_stats(); // the handler may have counted
            state->log(route + " -> fault " + std::string(to_string(action)));
            auto [ec, n] =
                co_await net::async_write(stream, net::buffer(bytes), net::as_tuple(use_awaitable));
            (void)ec;
            if (action == FaultAction::truncate)
                co_return End::abrupt;
            // Give the client time to read the headers and the first bytes,
            // so that the RST finds it in the middle of the body.
            co_await sleep_for(std::chrono::milliseconds(100));
            co_return End::reset;
        }
        }

        state->flush_stats(); // again: the handler may have counted
        state->log(route + " -> " + std::to_string(response.status) +
                   (fault ? " (fault " + std::string(to_string(fault->action)) + ")" : "") +
                   (throttled ? " (throttled)" : ""));
        const bool keep_alive = req.keep_alive();
        auto res = to_beast(std::move(response), req.version(), keep_alive);
        auto [write_ec, written] =
            co_await http::async_write(stream, res, net::as_tuple(use_awaitable));
        if (write_ec)
            co_return End::peer_closed;
        if (!keep_alive)
            co_return End::graceful;
    }
}

void reset_connection(tcp::socket& socket)
{
    boost::system::error_code ec;
    socket.set_option(tcp::socket::linger(true, 0), ec);
    socket.close(ec);
}

void close_connection(tcp::socket& socket)
{
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

} // namespace

net::awaitable<void> https_session(tcp::socket socket, std::shared_ptr<ServerState> state)
{
    net::ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), state->tls);
    auto [handshake_ec] = co_await stream.async_handshake(net::ssl::stream_base::server,
                                                          net::as_tuple(use_awaitable));
    if (handshake_ec) {
        ++state->stats.tls_handshake_failures;
        state->flush_stats();
        state->log("TLS handshake failed: " + handshake_ec.message());
        co_return;
    }
    ++state->stats.tls_handshakes;
    state->flush_stats();

    const End end = co_await serve(stream, Listener::https, state);
    tcp::socket& raw = beast::get_lowest_layer(stream).socket();
    switch (end) {
    case End::peer_closed:
        close_connection(raw);
        break;
    case End::graceful: {
        // close_notify, bounded: a client that never answers does not hold us.
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        auto [ec] = co_await stream.async_shutdown(net::as_tuple(use_awaitable));
        (void)ec;
        close_connection(beast::get_lowest_layer(stream).socket());
        break;
    }
    case End::abrupt:
        close_connection(raw);
        break;
    case End::reset:
        reset_connection(raw);
        break;
    }
}

net::awaitable<void> http_session(tcp::socket socket, std::shared_ptr<ServerState> state)
{
    beast::tcp_stream stream(std::move(socket));
    const End end = co_await serve(stream, Listener::http, state);
    if (end == End::reset)
        reset_connection(stream.socket());
    else
        close_connection(stream.socket());
}

} // namespace secrun::fakes
