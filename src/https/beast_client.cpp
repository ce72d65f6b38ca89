#include "https/beast_client.hpp"

#include "https/pacer.hpp"
#include "https/pool.hpp"
#include "https/proxy.hpp"
#include "https/retry.hpp"
#include "https/tls.hpp"
#include "log.hpp"
#include "secret.hpp"
#include "util/strings.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#ifndef SECRUN_VERSION
#error "SECRUN_VERSION must be defined by the build"
#endif

namespace secrun::https {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using util::str_cat;
using boost::system::error_code;

// Boost 1.81 has no default completion token (STYLE §3.1).
constexpr auto use_awaitable = asio::use_awaitable;
constexpr std::size_t header_limit = 64 * 1024;
constexpr std::string_view user_agent = "secrun/" SECRUN_VERSION;

// Wipes memory before freeing it. Used for everything that holds request
// headers (tokens), request bodies (client secrets) and responses (values),
// including the blocks a growing buffer leaves behind.
template <class T>
struct WipingAllocator {
    using value_type = T;
    WipingAllocator() = default;
    template <class U>
    WipingAllocator(const WipingAllocator<U>&) noexcept // NOLINT: rebinding is implicit
    {
    }
    T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept
    {
        cleanse(p, n * sizeof(T));
        std::allocator<T>{}.deallocate(p, n);
    }
    template <class U>
    bool operator==(const WipingAllocator<U>&) const noexcept
    {
        return true;
    }
};

using Fields = http::basic_fields<WipingAllocator<char>>;
using Body = http::basic_string_body<char, std::char_traits<char>, WipingAllocator<char>>;
using BeastRequest = http::request<Body, Fields>;
using Buffer = beast::basic_flat_buffer<WipingAllocator<char>>;
using TlsStream = ssl::stream<beast::tcp_stream>;

// Why an attempt failed, and what may follow.
struct Failure {
    Error error;
    bool retryable = false; // another attempt may succeed
    bool stale = false;     // a kept-alive connection was closed before any response byte
};

template <class T>
using Step = boost::system::result<T, Failure>;

// When a step must end, and which limit put it there (for the message).
struct Bound {
    Clock::time_point at;
    milliseconds length{0}; // the timeout, when it is not the overall deadline
    bool deadline = false;
};

// The tighter of `outer` and `timeout` from now.
Bound tighter(const Bound& outer, milliseconds timeout)
{
    const auto now = Clock::now();
    if (outer.at - now <= timeout)
        return outer;
    return {now + timeout, timeout, false};
}

Failure timeout_failure(std::string_view step, const Bound& bound)
{
    if (bound.deadline)
        return {Error(Errc::timeout,
                      str_cat(step, " did not finish before the overall deadline (--timeout)")),
                false};
    return {Error(Errc::timeout, str_cat(step, " timed out after ", format_duration(bound.length))),
            true};
}

std::string format_size(std::size_t bytes)
{
    if (bytes != 0 && bytes % (1 << 20) == 0)
        return std::to_string(bytes >> 20) + " MiB";
    if (bytes != 0 && bytes % (1 << 10) == 0)
        return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

// A connection closed under us: worth another attempt, and if it happened on
// a kept-alive connection before any response byte, simply stale.
bool is_closed(const error_code& ec)
{
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
           ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

// ec.message(), with Beast's and asio's terse texts made readable.
std::string describe(const error_code& ec)
{
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == ssl::error::stream_truncated)
        return "the server closed the connection";
    if (ec == http::error::partial_message)
        return "the server closed the connection in the middle of the response";
    return ec.message();
}

std::string host_header(const Url& url)
{
    const bool v6 = url.host.find(':') != std::string::npos;
    const bool default_port = (url.scheme == "https" && url.port == "443") ||
                              (url.scheme == "http" && url.port == "80");
    return str_cat(v6 ? "[" : "", url.host, v6 ? "]" : "", default_port ? "" : ":",
                   default_port ? "" : url.port);
}

// RFC 9110 token: methods and header names.
bool is_token(std::string_view text)
{
    constexpr std::string_view token_chars = "!#$%&'*+-.^_`|~";
    if (text.empty())
        return false;
    for (const char c : text)
        if (!std::isalnum(static_cast<unsigned char>(c)) &&
            token_chars.find(c) == std::string_view::npos)
            return false;
    return true;
}

// Nothing a caller passes may end the request line or a header early (no
// request splitting through a value read from a file or a response).
std::optional<std::string> invalid_part(const Request& r)
{
    if (!is_token(r.method))
        return "invalid method " + util::quoted(r.method);
    for (const char c : r.url.target)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            return std::string("invalid request target (it must be percent-encoded ASCII)");
    for (const auto& [name, value] : r.headers) {
        bool valid = is_token(name);
        for (const char c : value)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                valid = false;
        if (!valid)
            return "invalid header " + util::quoted(name);
    }
    return std::nullopt;
}

BeastRequest make_beast_request(const Request& r)
{
    BeastRequest req;
    req.method_string(r.method);
    req.target(r.url.target);
    req.version(11);
    for (const auto& [name, value] : r.headers)
        req.insert(name, value);
    if (req.find(http::field::host) == req.end())
        req.set(http::field::host, host_header(r.url));
    if (req.find(http::field::user_agent) == req.end())
        req.set(http::field::user_agent, user_agent);
    req.body().assign(r.body);
    req.prepare_payload();
    return req;
}

void wipe(Buffer& buffer)
{
    buffer.consume(buffer.size());
    const auto space = buffer.prepare(buffer.capacity());
    cleanse(space.data(), space.size());
}

// How every response is read (send() and read_response()): Beast's parser
// with our header and body limits; a response to HEAD has no body.
using ResponseParser = http::response_parser<Body, WipingAllocator<char>>;

void limit(ResponseParser& parser, std::size_t body_limit, bool head)
{
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    if (head)
        parser.skip(true);
}

// Why reading a response failed (a timeout is the caller's to report):
// limits and malformed responses are final, a closed connection is worth
// another attempt, and stale when nothing of the response had come.
Failure read_failure(const error_code& ec, bool got_some, std::size_t body_limit,
                     std::string_view origin)
{
    if (ec == http::error::body_limit)
        return {Error(Errc::bad_response,
                      str_cat("response from ", origin, " is larger than ", format_size(body_limit)))};
    if (ec == http::error::header_limit)
        return {Error(Errc::bad_response, str_cat("response headers from ", origin,
                                                  " are larger than ", format_size(header_limit)))};
    if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
        return {Error(Errc::bad_response, str_cat("receive from ", origin,
                                                  " failed: malformed response (", ec.message(), ")"))};
    const bool closed = is_closed(ec);
    // A reset (RST: a crashed server, a middlebox dropping the connection)
    // is told apart from a close, which a server or proxy does on purpose.
    std::string why = describe(ec);
    if (closed && got_some)
        why = ec == asio::error::connection_reset
                  ? "the connection was reset in the middle of the response"
                  : "the server closed the connection in the middle of the response";
    return {Error(Errc::network, str_cat("receive from ", origin, " failed: ", why)), true,
            closed && !got_some};
}

Response to_response(const ResponseParser::value_type& message)
{
    Response response;
    response.status = message.result_int();
    for (const auto& field : message)
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    response.body.assign(message.body().data(), message.body().size());
    return response;
}

// A SyncReadStream over bytes in memory: at most `chunk` bytes per read,
// then end of file (read_response()).
class MemoryStream {
public:
    MemoryStream(std::string_view bytes, std::size_t chunk) : rest_(bytes), chunk_(chunk) {}

    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, error_code& ec)
    {
        if (rest_.empty()) {
            ec = asio::error::eof;
            return 0;
        }
        ec = {};
        const std::size_t n = asio::buffer_copy(
            buffers, asio::buffer(rest_.data(), std::min(rest_.size(), chunk_)));
        rest_.remove_prefix(n);
        return n;
    }

    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers)
    {
        error_code ec;
        const std::size_t n = read_some(buffers, ec);
        if (ec)
            throw boost::system::system_error(ec);
        return n;
    }

private:
    std::string_view rest_;
    std::size_t chunk_;
};

// One kept-alive connection: TLS (https) or plain TCP (loopback/metadata http).
struct Connection {
    std::unique_ptr<TlsStream> tls;
    std::unique_ptr<beast::tcp_stream> plain;
    Buffer buffer; // bytes read past the last response (none, normally)

    beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }
};

// What one request/response exchange produced.
struct Exchange {
    Response response;
    bool reusable = false;
};

// Writes the request and reads the response on either stream type. The
// references are to objects owned by the awaiting caller's frame.
template <class Stream>
asio::awaitable<Step<Exchange>> exchange(Stream& stream, Connection& conn,
                                         const BeastRequest& request, Bound bound,
                                         std::size_t body_limit, std::string origin)
{
    conn.tcp().expires_at(bound.at);
    const auto [write_ec, written] =
        co_await http::async_write(stream, request, asio::as_tuple(use_awaitable));
    if (write_ec) {
        if (write_ec == beast::error::timeout)
            co_return timeout_failure(str_cat("send to ", origin), bound);
        co_return Failure{Error(Errc::network, str_cat("send to ", origin, " failed: ",
                                                        describe(write_ec))),
                          true, is_closed(write_ec)};
    }

    ResponseParser parser;
    limit(parser, body_limit, request.method() == http::verb::head);
    const auto [read_ec, read] =
        co_await http::async_read(stream, conn.buffer, parser, asio::as_tuple(use_awaitable));
    if (read_ec) {
        wipe(conn.buffer);
        if (read_ec == beast::error::timeout)
            co_return timeout_failure(str_cat("receive from ", origin), bound);
        co_return read_failure(read_ec, parser.got_some(), body_limit, origin);
    }

    auto& message = parser.get();
    Exchange out;
    out.response = to_response(message);
    out.reusable = message.keep_alive() && !parser.need_eof() && conn.buffer.size() == 0;
    wipe(conn.buffer);
    conn.tcp().expires_never();
    co_return out;
}

using ConnectionPool = Pool<Connection>;

class Engine {
public:
    Engine(asio::io_context& ioc, ClientOptions options, const EnvMap& env);

    static asio::awaitable<Result<Response>> send(std::shared_ptr<Engine> self, Request request);

    Stats stats;

private:
    // The member coroutines below run only inside send(), whose frame holds
    // a shared_ptr to the engine: `this` outlives them. Reference parameters
    // point into the awaiting caller's frame.
    asio::awaitable<Result<Response>> send_with_retries(Request& request);
    asio::awaitable<Step<Response>> attempt(const Request& request, const BeastRequest& beast_req,
                                            const Proxy* proxy);
    asio::awaitable<Step<std::vector<tcp::endpoint>>> resolve(std::string host, std::string port,
                                                             std::string step, Bound bound);
    asio::awaitable<Step<std::unique_ptr<Connection>>> connect(const Url& url, const Proxy* proxy,
                                                               Bound bound);
    asio::awaitable<Step<std::unique_ptr<beast::tcp_stream>>>
    open_tcp(const Url& url, const Proxy* proxy, Bound bound);
    asio::awaitable<Step<std::unique_ptr<TlsStream>>>
    handshake(std::unique_ptr<beast::tcp_stream> stream, const Url& url, Bound bound);
    asio::awaitable<Step<void>> tunnel(beast::tcp_stream& stream, Buffer& buffer,
                                       const Proxy& proxy, const Url& url, Bound bound);

    Result<ssl::context*> tls_context();
    double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

    asio::io_context& ioc_;
    ClientOptions options_;
    Clock::time_point deadline_;
    tls::TrustSettings trust_;
    Result<ProxySettings> proxy_;
    // Made on the first https request; remade once with the whole system
    // bundle when the hashed directory alone did not know an issuer. Streams
    // hold their own reference to the OpenSSL context.
    std::unique_ptr<ssl::context> context_;
    std::optional<Error> context_error_;
    bool bundle_skipped_ = false;
    bool context_made_ = false;
    std::shared_ptr<ConnectionPool> pool_;
    SendPacer pacer_; // spaces requests to a host once it throttles
    std::map<std::string, std::vector<tcp::endpoint>, std::less<>> addresses_;
    std::mt19937_64 random_;
};

Engine::Engine(asio::io_context& ioc, ClientOptions options, const EnvMap& env)
    : ioc_(ioc), options_(std::move(options)),
      deadline_(options_.deadline == Clock::time_point{} ? Clock::time_point::max()
                                                         : options_.deadline),
      trust_(tls::TrustSettings::from(env, options_.ca_file)), proxy_(proxy_settings(env)),
      pool_(std::make_shared<ConnectionPool>(ioc, options_.concurrency)),
      pacer_(ioc, PacingPolicy{}, std::random_device{}()),
      random_(std::random_device{}())
{
}

Result<ssl::context*> Engine::tls_context()
{
    if (!context_ && !context_error_) {
        // The first context may skip the system bundle; a remade one loads it.
        const auto bundle = context_made_ ? tls::SystemBundle::always
                                          : tls::SystemBundle::when_needed;
        context_made_ = true;
        auto made = tls::make_context(trust_, bundle);
        if (made) {
            context_ = std::move(made->ssl);
            bundle_skipped_ = made->bundle_skipped;
        } else {
            context_error_ = made.error();
        }
    }
    if (context_error_)
        return *context_error_;
    return context_.get();
}

// Lookups run in their own coroutine: asio cannot cancel a getaddrinfo in
// progress, so the caller waits on a timer instead and leaves a slow lookup
// behind at its bound.
struct Lookup {
    explicit Lookup(asio::io_context& ioc) : done_timer(ioc, Clock::time_point::max()) {}
    asio::steady_timer done_timer;
    bool done = false;
    error_code ec;
    std::vector<tcp::endpoint> endpoints;
};

asio::awaitable<void> run_lookup(std::shared_ptr<Lookup> lookup, std::string host,
                                 std::string port)
{
    tcp::resolver resolver(co_await asio::this_coro::executor);
    const auto [ec, results] =
        co_await resolver.async_resolve(host, port, asio::as_tuple(use_awaitable));
    lookup->ec = ec;
    for (const auto& entry : results)
        lookup->endpoints.push_back(entry.endpoint());
    lookup->done = true;
    lookup->done_timer.cancel();
}

asio::awaitable<Step<std::vector<tcp::endpoint>>>
Engine::resolve(std::string host, std::string port, std::string step, Bound bound)
{
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) // an IP literal needs no lookup (and no resolver thread)
        co_return std::vector<tcp::endpoint>{tcp::endpoint(address, static_cast<unsigned short>(
                                                                         std::stoul(port)))};
    const std::string key = str_cat(host, ":", port);
    if (const auto known = addresses_.find(key); known != addresses_.end())
        co_return known->second;

    auto lookup = std::make_shared<Lookup>(ioc_);
    lookup->done_timer.expires_at(bound.at);
    asio::co_spawn(ioc_, run_lookup(lookup, host, port), [lookup](std::exception_ptr e) {
        if (e && !lookup->done) { // only bad_alloc can get here
            lookup->ec = asio::error::no_memory;
            lookup->done = true;
            lookup->done_timer.cancel();
        }
    });
    if (!lookup->done)
        co_await lookup->done_timer.async_wait(asio::as_tuple(use_awaitable));
    if (!lookup->done)
        co_return timeout_failure(step, bound);
    if (lookup->ec || lookup->endpoints.empty()) {
        // A name that does not exist will not exist on the next attempt either.
        const bool retryable = lookup->ec != asio::error::host_not_found;
        co_return Failure{Error(Errc::network, str_cat(step, " failed: ",
                                                        lookup->ec ? lookup->ec.message()
                                                                   : "no address")),
                          retryable};
    }
    addresses_[key] = lookup->endpoints;
    co_return std::move(lookup->endpoints);
}

asio::awaitable<Step<void>> Engine::tunnel(beast::tcp_stream& stream, Buffer& buffer,
                                           const Proxy& proxy, const Url& url, Bound bound)
{
    const bool v6 = url.host.find(':') != std::string::npos;
    const std::string authority =
        str_cat(v6 ? "[" : "", url.host, v6 ? "]" : "", ":", url.port);
    const std::string step =
        str_cat("proxy CONNECT to ", url.origin(), " via ", proxy.display());
    http::request<http::empty_body, Fields> req{http::verb::connect, authority, 11};
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, user_agent);
    if (!proxy.authorization.empty())
        req.set(http::field::proxy_authorization, proxy.authorization);

    stream.expires_at(bound.at);
    const auto [write_ec, written] =
        co_await http::async_write(stream, req, asio::as_tuple(use_awaitable));
    if (write_ec == beast::error::timeout)
        co_return timeout_failure(step, bound);
    if (write_ec)
        co_return Failure{Error(Errc::network, str_cat(step, " failed: ", describe(write_ec))),
                          true};

    http::response_parser<http::empty_body, WipingAllocator<char>> parser;
    parser.header_limit(header_limit);
    parser.skip(true); // a 2xx starts the tunnel; any other answer ends here
    const auto [read_ec, read] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(use_awaitable));
    if (read_ec == beast::error::timeout)
        co_return timeout_failure(step, bound);
    if (read_ec)
        co_return Failure{Error(Errc::network, str_cat(step, " failed: ", describe(read_ec))),
                          true};
    const unsigned status = parser.get().result_int();
    if (status / 100 != 2) {
        const std::string what =
            str_cat(step, " failed: HTTP ", std::to_string(status), " ",
                    std::string(http::obsolete_reason(parser.get().result())));
        if (status == 407)
            co_return Failure{Error(Errc::config, what)};
        co_return Failure{Error(Errc::network, what), status >= 500};
    }
    if (buffer.size() != 0)
        co_return Failure{Error(Errc::network,
                                str_cat(step, " failed: the proxy sent data before the TLS "
                                              "handshake"))};
    co_return Step<void>{};
}

asio::awaitable<Step<std::unique_ptr<beast::tcp_stream>>>
Engine::open_tcp(const Url& url, const Proxy* proxy, Bound bound)
{
    const std::string origin = url.origin();
    const std::string peer = proxy ? str_cat("proxy ", proxy->display(), " for ", origin) : origin;
    const Bound connect_bound = tighter(bound, options_.connect_timeout);

    std::string host = proxy ? proxy->host : url.host;
    std::string port = proxy ? proxy->port : url.port;
    std::string resolve_step = str_cat("resolving ", peer);
    // GCC 12 miscompiles a coroutine call with by-value arguments inside
    // co_await: every task here is created on its own line, then awaited.
    auto resolving = resolve(std::move(host), std::move(port), std::move(resolve_step),
                             connect_bound);
    auto endpoints = co_await std::move(resolving);
    if (!endpoints)
        co_return endpoints.error();
    if (url.scheme == "http")
        for (const auto& endpoint : *endpoints)
            if (!is_local_address(endpoint.address().to_string()))
                co_return Failure{Error(Errc::config,
                                        str_cat("refusing plain http:// to ", origin, ": it ",
                                                "resolves to ", endpoint.address().to_string(),
                                                ", not a loopback or link-local address"))};

    auto stream = std::make_unique<beast::tcp_stream>(ioc_);
    stream->expires_at(connect_bound.at);
    const auto [connect_ec, endpoint] =
        co_await stream->async_connect(*endpoints, asio::as_tuple(use_awaitable));
    if (connect_ec == beast::error::timeout)
        co_return timeout_failure(str_cat("connect to ", peer), connect_bound);
    if (connect_ec)
        co_return Failure{Error(Errc::network, str_cat("connect to ", peer, " failed: ",
                                                        connect_ec.message())),
                          true};
    ++stats.connections;
    error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    if (proxy) {
        Buffer buffer;
        auto tunnelling = tunnel(*stream, buffer, *proxy, url, bound);
        auto tunnelled = co_await std::move(tunnelling);
        if (!tunnelled)
            co_return tunnelled.error();
    }
    co_return stream;
}

asio::awaitable<Step<std::unique_ptr<TlsStream>>>
Engine::handshake(std::unique_ptr<beast::tcp_stream> stream, const Url& url, Bound bound)
{
    const auto context = tls_context();
    if (!context)
        co_return Failure{context.error()};
    const bool lazy_trust = bundle_skipped_; // another handshake may change it meanwhile
    auto tls = std::make_unique<TlsStream>(std::move(*stream), **context);
    if (auto identity = tls::set_peer_identity(tls->native_handle(), url.host); !identity)
        co_return Failure{identity.error()};
    const std::string step = str_cat("TLS handshake with ", url.origin());
    tls->next_layer().expires_at(bound.at);
    const auto [handshake_ec] =
        co_await tls->async_handshake(ssl::stream_base::client, asio::as_tuple(use_awaitable));
    if (handshake_ec == beast::error::timeout)
        co_return timeout_failure(step, bound);
    if (handshake_ec) {
        SSL* native = tls->native_handle();
        const std::string what =
            str_cat(step, " failed: ", tls::handshake_failure(native, handshake_ec));
        if (lazy_trust && tls::is_untrusted_issuer(native)) {
            // Maybe a CA appended to the system bundle by hand: load it all.
            log::debug(str_cat(what, "; trying again with the system CA bundle"));
            if (bundle_skipped_) { // the first such failure remakes the context
                bundle_skipped_ = false;
                context_.reset();
            }
            Failure retry{Error(Errc::tls, what)};
            retry.stale = true;
            co_return retry;
        }
        // A reset or close during the handshake is the network's doing;
        // an untrusted peer or a protocol mismatch stays that way.
        if (!tls::is_verification_failure(native) && is_closed(handshake_ec))
            co_return Failure{Error(Errc::network, what), true};
        co_return Failure{Error(Errc::tls, what)};
    }
    ++stats.handshakes;
    co_return tls;
}

asio::awaitable<Step<std::unique_ptr<Connection>>>
Engine::connect(const Url& url, const Proxy* proxy, Bound bound)
{
    auto opening = open_tcp(url, proxy, bound);
    auto opened = co_await std::move(opening);
    if (!opened)
        co_return opened.error();
    auto conn = std::make_unique<Connection>();
    if (url.scheme == "http") {
        conn->plain = std::move(*opened);
        co_return conn;
    }
    auto securing = handshake(std::move(*opened), url, bound);
    auto secured = co_await std::move(securing);
    if (!secured && secured.error().stale) { // once more, with the whole system bundle
        auto reopening = open_tcp(url, proxy, bound);
        auto reopened = co_await std::move(reopening);
        if (!reopened)
            co_return reopened.error();
        auto resecuring = handshake(std::move(*reopened), url, bound);
        secured = co_await std::move(resecuring);
    }
    if (!secured)
        co_return secured.error();
    conn->tls = std::move(*secured);
    co_return conn;
}

asio::awaitable<Step<Response>> Engine::attempt(const Request& request,
                                                const BeastRequest& beast_req, const Proxy* proxy)
{
    const Url& url = request.url;
    const std::string origin = url.origin();
    std::shared_ptr<ConnectionPool> pool = pool_;
    std::string key = str_cat(url.scheme, "://", url.host, ":", url.port);
    auto acquiring = ConnectionPool::acquire(std::move(pool), std::move(key), deadline_);
    std::optional<ConnectionPool::Lease> leased = co_await std::move(acquiring);
    if (!leased)
        co_return Failure{Error(Errc::timeout, str_cat("waiting for a connection to ", origin,
                                                       " did not finish before the overall "
                                                       "deadline (--timeout)"))};
    ConnectionPool::Lease& lease = *leased;

    const milliseconds timeout =
        request.timeout > milliseconds{0} ? request.timeout : options_.request_timeout;
    const Bound bound = tighter(Bound{deadline_, {}, true}, timeout);
    bool reused = lease.connection != nullptr;
    for (;;) {
        if (!lease.connection) {
            auto connecting = connect(url, proxy, bound);
            auto opened = co_await std::move(connecting);
            if (!opened)
                co_return opened.error();
            lease.connection = std::move(*opened);
        }
        ++stats.requests;
        Connection& conn = *lease.connection;
        auto exchanging =
            conn.tls ? exchange(*conn.tls, conn, beast_req, bound, request.body_limit, origin)
                     : exchange(*conn.plain, conn, beast_req, bound, request.body_limit, origin);
        Step<Exchange> done = co_await std::move(exchanging);
        if (!done) {
            lease.connection.reset(); // never reuse a connection after an error
            if (done.error().stale && reused) {
                // The server closed an idle kept-alive connection: reconnect once.
                log::debug(str_cat("reopening the kept-alive connection to ", origin));
                reused = false;
                continue;
            }
            co_return done.error();
        }
        if (!done->reusable)
            lease.connection.reset();
        co_return std::move(done->response);
    }
}

asio::awaitable<Result<Response>> Engine::send_with_retries(Request& request)
{
    const Url& url = request.url;
    const std::string origin = url.origin();
    if (url.scheme == "http") {
        if (!request.allow_http)
            co_return Error(Errc::config, str_cat("refusing plain http:// to ", origin,
                                                  ": secrets and tokens travel only over "
                                                  "https"));
        if (!is_local_address(url.host))
            co_return Error(Errc::config,
                            str_cat("refusing plain http:// to ", origin, ": only loopback and "
                                    "link-local metadata addresses may be reached without TLS"));
    } else if (url.scheme != "https") {
        co_return Error(Errc::config, str_cat("unsupported URL scheme in ", origin));
    }
    if (!proxy_)
        co_return proxy_.error();
    if (const auto invalid = invalid_part(request))
        co_return Error(Errc::config, str_cat(*invalid, " in a request to ", origin));
    const Proxy* proxy = proxy_for(*proxy_, url);

    RetryPolicy policy;
    policy.max_attempts = request.max_attempts > 0 ? static_cast<unsigned>(request.max_attempts)
                                                   : options_.retries + 1;
    const BeastRequest beast_req = make_beast_request(request);
    cleanse(request.body); // the wiping copy above is the only one left
    const std::string shown = str_cat(request.method, " ", origin,
                                      url.target.substr(0, url.target.find('?')));

    const std::string host_key = str_cat(url.scheme, "://", url.host, ":", url.port);
    // What a request returns when it stops: the last response, or the last
    // error with the number of attempts it took.
    const auto finish = [](Step<Response>& outcome, unsigned attempts) -> Result<Response> {
        if (outcome)
            return std::move(*outcome);
        Error error = std::move(outcome.error().error);
        if (attempts > 1)
            error.message += str_cat(" (after ", std::to_string(attempts), " attempts)");
        return error;
    };
    std::optional<Step<Response>> last; // the previous attempt's outcome, while waiting to retry

    for (unsigned attempt_no = 1;; ++attempt_no) {
        // The host's pacing (https/pacer.hpp): at once unless it has throttled.
        auto waiting = pacer_.wait_turn(host_key, deadline_);
        std::optional<SendPacer::Turn> turn = co_await std::move(waiting);
        if (!turn) {
            if (last)
                co_return finish(*last, attempt_no - 1);
            co_return Error(Errc::timeout, str_cat("waiting to send to ", origin,
                                                   " did not finish before the overall "
                                                   "deadline (--timeout)"));
        }
        auto attempting = attempt(request, beast_req, proxy);
        Step<Response> outcome = co_await std::move(attempting);
        AttemptOutcome seen;
        std::string reason;
        if (outcome) {
            seen.status = outcome->status;
            seen.retry_if = request.retry_if && request.retry_if(*outcome);
            seen.retry_after = retry_after_of(*outcome, std::chrono::system_clock::now());
            reason = str_cat("HTTP ", std::to_string(outcome->status));
            if (outcome->status == 429 || seen.retry_if)
                pacer_.throttled(*turn);
            else
                pacer_.answered(*turn);
        } else {
            seen.transport_retryable = outcome.error().retryable;
            reason = outcome.error().error.message;
        }
        const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
        const RetryDecision decision =
            decide_retry(policy, attempt_no, seen, left, unit_random());
        if (!decision.retry)
            co_return finish(outcome, attempt_no);
        pacer_.retry_at(*turn, Clock::now() + decision.delay);
        if (log::enabled(log::Level::info))
            log::info(str_cat("retrying ", shown, " (attempt ", std::to_string(attempt_no + 1),
                          " of ", std::to_string(policy.max_attempts), ") in ",
                          format_duration(decision.delay), ": ", reason));
        ++stats.retries;
        last = std::move(outcome);
        asio::steady_timer pause(ioc_);
        pause.expires_after(decision.delay);
        co_await pause.async_wait(asio::as_tuple(use_awaitable));
    }
}

asio::awaitable<Result<Response>> Engine::send(std::shared_ptr<Engine> self, Request request)
{
    Result<Response> result = Error(Errc::internal, "no result");
    try {
        auto sending = self->send_with_retries(request);
        result = co_await std::move(sending);
    } catch (const std::exception& e) {
        // Only allocation failures and bugs get here: I/O errors are values.
        result = Error(Errc::internal, str_cat(request.method, " ", request.url.origin(),
                                               ": internal error: ", e.what()));
    }
    cleanse(request.body);
    for (auto& header : request.headers)
        cleanse(header.second);
    co_return result;
}

class BeastClient final : public Client {
public:
    BeastClient(asio::io_context& ioc, ClientOptions options, const EnvMap& env)
        : engine_(std::make_shared<Engine>(ioc, std::move(options), env))
    {
    }

    asio::awaitable<Result<Response>> send(Request request) override
    {
        return Engine::send(engine_, std::move(request));
    }

    [[nodiscard]] Stats stats() const override { return engine_->stats; }

private:
    std::shared_ptr<Engine> engine_;
};

} // namespace

std::unique_ptr<Client> make_client(asio::io_context& ioc, ClientOptions options,
                                    const EnvMap& env)
{
    return std::make_unique<BeastClient>(ioc, std::move(options), env);
}

Result<Response> read_response(std::string_view bytes, std::size_t body_limit,
                               std::string_view origin, std::size_t chunk)
{
    MemoryStream stream(bytes, chunk == 0 ? bytes.size() : chunk);
    Buffer buffer;
    ResponseParser parser;
    limit(parser, body_limit, false);
    error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) {
        wipe(buffer);
        return read_failure(ec, parser.got_some(), body_limit, origin).error;
    }
    Response response = to_response(parser.get());
    wipe(buffer);
    return response;
}

} // namespace secrun::https
