// HTTPS_PROXY / NO_PROXY as curl reads them, and which addresses are local (pure).
//
// Rules (curl's, lib/noproxy.c, unless said otherwise):
// - `https_proxy` wins over `HTTPS_PROXY`, even when it is set but empty;
//   `no_proxy` wins over `NO_PROXY` the same way. An empty value means none.
// - The proxy URL is `[http://][user[:password]@]host[:port][/]`; userinfo is
//   percent-decoded and sent as `Proxy-Authorization: Basic` on CONNECT. The
//   port defaults to 1080 (curl's default). `https://` (TLS to the proxy) and
//   SOCKS proxies are refused with a clear error.
// - NO_PROXY is `*` (every host) or a list separated by commas and/or blanks.
//   A name matches the host itself or any subdomain on a label boundary
//   (`example.com` and `.example.com` both match `example.com` and
//   `www.example.com`, never `notexample.com`), case-insensitively, trailing
//   dots ignored. IP literals match IP hosts only, with optional CIDR bits
//   (`10.0.0.0/8`, `fd00::/8`); names are never resolved to match them.
// - Beyond curl (as Go's net/http does): an entry may carry a port
//   (`host:8443`, `10.1.2.3:443`, `[::1]:443`) and then matches only that port.
// - Beyond curl (as the AWS and Azure SDKs and Go do for metadata and local
//   services): loopback and link-local hosts are never proxied, so IMDS, ECS
//   and local test servers are reached directly whatever NO_PROXY says.
//   Plain http:// requests (allowed only to such hosts) are never proxied.
#pragma once

#include "env_map.hpp"
#include "error.hpp"
#include "https/client.hpp"
#include "secret.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace secrun::https {

struct Proxy {
    std::string host; // without brackets for IPv6
    std::string port;
    // "Basic <base64(user:password)>" when the URL had userinfo, else empty;
    // wiped on destruction.
    std::string authorization;

    Proxy() = default;
    Proxy(const Proxy&) = default;
    Proxy(Proxy&&) noexcept = default;
    Proxy& operator=(const Proxy&) = default;
    Proxy& operator=(Proxy&&) noexcept = default;
    ~Proxy();

    // "http://host:port", never with credentials: for messages.
    [[nodiscard]] std::string display() const;
};

struct ProxySettings {
    std::optional<Proxy> https_proxy; // nullopt: connect directly
    std::string no_proxy;             // the raw NO_PROXY list
};

/// Parses a proxy URL (see the rules above). Errors never repeat the
/// credentials: "invalid proxy URL 'http://***@host:x': invalid port".
[[nodiscard]] Result<Proxy> parse_proxy_url(std::string_view text);

/// Reads https_proxy/HTTPS_PROXY and no_proxy/NO_PROXY. An invalid proxy URL
/// is an error prefixed with the variable's name ("HTTPS_PROXY: ...").
[[nodiscard]] Result<ProxySettings> proxy_settings(const EnvMap& env);

/// True when `host` (no brackets) at `port` matches the NO_PROXY list.
[[nodiscard]] bool no_proxy_matches(std::string_view no_proxy, std::string_view host,
                                    std::string_view port);

/// True for "localhost", loopback (127.0.0.0/8, ::1) and link-local
/// (169.254.0.0/16, fe80::/10) IP literals, and the AWS metadata addresses
/// fd00:ec2::254 (IMDS) and fd00:ec2::23 (EKS Pod Identity). IPv4-mapped IPv6
/// addresses count as their IPv4 address.
[[nodiscard]] bool is_local_address(std::string_view host);

/// The proxy to use for `url`, or nullptr to connect directly: no proxy set,
/// plain http, a local address, or a NO_PROXY match. The pointer refers into
/// `settings`.
[[nodiscard]] const Proxy* proxy_for(const ProxySettings& settings, const Url& url);

} // namespace secrun::https
