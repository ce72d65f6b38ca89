// The HTTPS client interface every backend and credential provider uses.
//
// Backends see only these std types; Beast and asio::ssl end in
// beast_client.cpp. Transport failures (resolve, connect, TLS, timeouts) are
// Errors; any HTTP status is a Response, so a backend can read the vendor's
// error body. Connection errors, 5xx and 429 are retried inside the client
// (full-jitter backoff, Retry-After honoured) before the last outcome is
// returned.
#pragma once

#include "error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrun::https {

struct Url {
    std::string scheme; // "https" or "http"
    std::string host;   // without brackets for IPv6
    std::string port;   // always set ("443" when not written)
    std::string target; // path + query, at least "/"

    // Accepts "https://host[:port][/path][?query]"; userinfo and fragments are refused.
    [[nodiscard]] static Result<Url> parse(std::string_view text);
    // "https://host:port" (port omitted when default), for messages.
    [[nodiscard]] std::string origin() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method = "GET";
    Url url;
    Headers headers;  // Host, Content-Length and User-Agent are added by the client
    std::string body; // wiped after sending

    std::chrono::milliseconds timeout{0}; // per attempt; 0: the client's default
    int max_attempts = 0;                 // 0: the client's default (--retries + 1)
    std::size_t body_limit = 1 << 20;     // a larger response body is an error
    // Plain http:// is allowed only when the request says so AND the host is a
    // link-local metadata address or loopback; otherwise it is refused.
    bool allow_http = false;
    // Extra retry condition on a response (AWS throttles with 400 + ThrottlingException).
    std::function<bool(const struct Response&)> retry_if;
    // What the request is for, in messages and -v logs ("Doppler download").
    std::string what;
};

struct Response {
    unsigned status = 0;
    Headers headers;
    std::string body;

    Response() = default;
    Response(const Response&) = default;
    Response(Response&&) noexcept = default;
    Response& operator=(const Response&) = default;
    Response& operator=(Response&&) noexcept = default;
    ~Response(); // wipes the body: it may hold secret values

    // Case-insensitive header lookup (first match).
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

// Counters a run exposes for -v and the benchmarks.
struct Stats {
    unsigned requests = 0;
    unsigned connections = 0;
    unsigned handshakes = 0;
    unsigned retries = 0;
};

class Client {
public:
    virtual ~Client() = default;
    [[nodiscard]] virtual boost::asio::awaitable<Result<Response>> send(Request request) = 0;
    [[nodiscard]] virtual Stats stats() const { return {}; }
};

struct ClientOptions {
    std::string ca_file;     // --ca-file: trusted in addition to SSL_CERT_FILE/SSL_CERT_DIR/system
    unsigned concurrency = 16; // kept-alive connections per host (--concurrency)
    unsigned retries = 4;      // retries after the first attempt (--retries)
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{10000}; // per attempt
    std::chrono::steady_clock::time_point deadline;   // overall (--timeout); nothing runs past it
};

} // namespace secrun::https
