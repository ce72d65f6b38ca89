// The real https::Client: Beast over asio::ssl, keep-alive pools, retries,
// HTTPS_PROXY tunnels. Everything above it sees only client.hpp.
#pragma once

#include "env_map.hpp"
#include "https/client.hpp"

#include <cstddef>
#include <memory>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace secrun::https {

/// A client whose send() runs on `ioc` (single-threaded; every send must be
/// co_awaited or co_spawned on that io_context).
///
/// - Connections: per scheme+host+port at most `options.concurrency`
///   connections, kept alive and reused; more requests wait for one. A reused
///   connection found closed before any response byte is reopened once
///   without counting an attempt.
/// - Time: resolve and connect are bounded by `connect_timeout`, the whole
///   attempt (handshake, send, receive) by Request::timeout or
///   `request_timeout`, and everything by `deadline` (a default-constructed
///   deadline means none).
/// - Retries (https/retry.hpp): connection errors, resets, an attempt's
///   timeout, 5xx, 429 and Request::retry_if, up to Request::max_attempts or
///   `retries + 1` attempts, never past the deadline. Each retry is logged at
///   info level.
/// - Throttling (https/pacer.hpp): once a host answers 429 or
///   Request::retry_if, requests to it leave one at a time, spaced by a gap
///   that grows with each throttle event and shrinks with each answer; a
///   host that never throttled is not paced.
/// - TLS (https/tls.hpp): TLS 1.2+, peer and host name verified; the trust
///   store (system, SSL_CERT_FILE, SSL_CERT_DIR from `env`, `ca_file`) is
///   loaded on the first https request.
/// - Proxy (https/proxy.hpp): https_proxy/HTTPS_PROXY and NO_PROXY from `env`.
/// - Plain http only when Request::allow_http and the host is loopback or
///   link-local (every resolved address too).
///
/// send() never throws. A configuration problem (bad HTTPS_PROXY, unreadable
/// --ca-file) is returned as an Errc::config Error by every send(); transport
/// failures are one line naming the step and the URL's origin.
///
/// The client must be destroyed before `ioc` (it owns sockets). A send() still
/// suspended when `ioc` is destroyed is destroyed with it safely.
[[nodiscard]] std::unique_ptr<Client> make_client(boost::asio::io_context& ioc,
                                                  ClientOptions options, const EnvMap& env);

/// Reads one HTTP/1.1 response from `bytes` as send() reads one from a
/// connection that closes after them: the same Beast parser, limits (64 KiB
/// of headers, `body_limit` of body), conversion and messages naming
/// `origin` ("response from https://h is larger than 1 MiB", "receive from
/// https://h failed: malformed response (bad version)", ...). The parser gets
/// at most `chunk` bytes per read (0: all at once), as a socket may hand
/// them out. For tests and the fuzzer (tests/fuzz/http_response_fuzzer.cpp).
[[nodiscard]] Result<Response> read_response(std::string_view bytes, std::size_t body_limit,
                                             std::string_view origin, std::size_t chunk = 0);

} // namespace secrun::https
