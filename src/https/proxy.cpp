#include "https/proxy.hpp"

#include "util/strings.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace secrun::https {
namespace {

using util::str_cat;

constexpr std::string_view default_proxy_port = "1080"; // curl's

std::string base64(std::string_view in)
{
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const auto n = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (const auto rest = in.size() - i; rest != 0) {
        auto n = static_cast<unsigned char>(in[i]) << 16;
        if (rest == 2)
            n |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view in)
{
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        const int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
        const int lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
        if (lo < 0) {
            cleanse(out);
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

bool valid_port(std::string_view port)
{
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return ec == std::errc{} && end == port.data() + port.size() && value >= 1 && value <= 65535;
}

// Splits "host", "host:port", "[v6]" or "[v6]:port"; false when malformed.
bool split_host_port(std::string_view authority, std::string_view& host, std::string_view& port)
{
    port = {};
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return false;
        host = authority.substr(1, close - 1);
        const auto after = authority.substr(close + 1);
        if (after.empty())
            return true;
        if (after.front() != ':')
            return false;
        port = after.substr(1);
        return true;
    }
    const auto colon = authority.find(':');
    if (colon == std::string_view::npos) {
        host = authority;
        return true;
    }
    if (authority.find(':', colon + 1) != std::string_view::npos) {
        host = authority; // a bare IPv6 address
        return true;
    }
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    return true;
}

struct Address {
    int family = 0; // AF_INET, AF_INET6 or 0 for a name
    std::array<unsigned char, 16> bytes{};
};

Address parse_address(std::string_view text)
{
    Address a;
    char buffer[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof buffer)
        return a;
    std::memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    if (::inet_pton(AF_INET, buffer, a.bytes.data()) == 1)
        a.family = AF_INET;
    else if (::inet_pton(AF_INET6, buffer, a.bytes.data()) == 1)
        a.family = AF_INET6;
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 address.
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a.family == AF_INET6 && std::memcmp(a.bytes.data(), mapped, sizeof mapped) == 0) {
        std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
        std::memset(a.bytes.data() + 4, 0, 12);
        a.family = AF_INET;
    }
    return a;
}

// True when the first `bits` bits of a and b agree.
bool prefix_equal(const Address& a, const Address& b, unsigned bits)
{
    const unsigned bytes = bits / 8;
    if (std::memcmp(a.bytes.data(), b.bytes.data(), bytes) != 0)
        return false;
    if (const unsigned rest = bits % 8; rest != 0) {
        const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
        return ((a.bytes[bytes] ^ b.bytes[bytes]) & mask) == 0;
    }
    return true;
}

// "10.0.0.0/8" against an address host; a malformed entry matches nothing.
bool address_matches(const Address& host, std::string_view entry)
{
    std::string_view bits_text;
    if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
        bits_text = entry.substr(slash + 1);
        entry = entry.substr(0, slash);
    }
    const Address net = parse_address(entry);
    if (net.family != host.family)
        return false;
    const unsigned width = host.family == AF_INET ? 32 : 128;
    unsigned bits = width;
    if (!bits_text.empty()) {
        const auto [end, ec] =
            std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
        if (ec != std::errc{} || end != bits_text.data() + bits_text.size() || bits > width)
            return false;
    }
    return prefix_equal(host, net, bits);
}

// "example.com" or ".example.com" against a host name, on label boundaries.
bool name_matches(std::string_view host, std::string_view entry)
{
    if (!entry.empty() && entry.back() == '.')
        entry.remove_suffix(1);
    if (!entry.empty() && entry.front() == '.')
        entry.remove_prefix(1);
    if (entry.empty() || entry.size() > host.size())
        return false;
    if (entry.size() == host.size())
        return util::iequals(entry, host);
    const auto tail = host.substr(host.size() - entry.size());
    return host[host.size() - entry.size() - 1] == '.' && util::iequals(entry, tail);
}

// What a NO_PROXY entry says: "host", "host:port", "[v6]:port", "10.0.0.0/8".
bool entry_matches(std::string_view entry, std::string_view host, const Address& address,
                   std::string_view port)
{
    std::string_view entry_host = entry;
    std::string_view entry_port;
    const bool bracketed = entry.front() == '[';
    const auto colons = std::count(entry.begin(), entry.end(), ':');
    if (bracketed || colons == 1) {
        if (!split_host_port(entry, entry_host, entry_port))
            return false;
        if (!entry_port.empty() && entry_port != port)
            return false;
    }
    if (entry_host.empty())
        return false;
    if (address.family != 0)
        return address_matches(address, entry_host);
    return name_matches(host, entry_host);
}

std::optional<std::string_view> first_set(const EnvMap& env, std::string_view lower,
                                          std::string_view upper, std::string_view& name)
{
    name = lower;
    if (auto v = env.get(lower))
        return v;
    name = upper;
    return env.get(upper);
}

} // namespace

Proxy::~Proxy() { cleanse(authorization); }

std::string Proxy::display() const
{
    const bool v6 = host.find(':') != std::string::npos;
    return str_cat("http://", v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

Result<Proxy> parse_proxy_url(std::string_view text)
{
    // Repeat the URL in messages without its credentials.
    std::string shown(text);
    if (const auto at = shown.rfind('@'); at != std::string::npos) {
        const auto scheme_end = shown.find("://");
        const auto start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
        if (at >= start)
            shown.replace(start, at - start, "***");
    }
    const auto bad = [&](std::string_view why) {
        return Error(Errc::config, str_cat("invalid proxy URL ", util::quoted(shown), ": ", why));
    };

    std::string_view rest = text;
    if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
        const std::string scheme = util::to_lower(rest.substr(0, scheme_end));
        if (scheme == "https")
            return bad("https:// proxies (TLS to the proxy) are not supported; use http://");
        if (scheme.rfind("socks", 0) == 0)
            return bad("SOCKS proxies are not supported; use an http:// proxy");
        if (scheme != "http")
            return bad(str_cat("unsupported scheme ", util::quoted(scheme), "; use http://"));
        rest = rest.substr(scheme_end + 3);
    }
    // curl ignores a path after the authority ("http://proxy:3128/").
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));

    Proxy proxy;
    std::string_view host_port = authority;
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        host_port = authority.substr(at + 1);
        const auto colon = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, colon));
        auto password = percent_decode(
            colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1));
        if (!user || !password) {
            if (user)
                cleanse(*user);
            if (password)
                cleanse(*password);
            return bad("invalid percent-encoding in the credentials");
        }
        std::string joined = *user + ":" + *password;
        cleanse(*user);
        cleanse(*password);
        std::string value = "Basic " + base64(joined);
        cleanse(joined);
        proxy.authorization = std::move(value);
    }

    std::string_view host;
    std::string_view port;
    if (!split_host_port(host_port, host, port))
        return bad("malformed host");
    if (host.empty())
        return bad("no host");
    if (!port.empty() && !valid_port(port))
        return bad("invalid port");
    proxy.host = util::to_lower(host);
    proxy.port = port.empty() ? std::string(default_proxy_port) : std::string(port);
    return proxy;
}

Result<ProxySettings> proxy_settings(const EnvMap& env)
{
    ProxySettings settings;
    std::string_view name;
    if (const auto value = first_set(env, "https_proxy", "HTTPS_PROXY", name);
        value && !value->empty()) {
        auto proxy = parse_proxy_url(*value);
        if (!proxy)
            return with_context(proxy.error(), name);
        settings.https_proxy = std::move(*proxy);
    }
    if (const auto value = first_set(env, "no_proxy", "NO_PROXY", name))
        settings.no_proxy = std::string(*value);
    return settings;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::string_view port)
{
    if (host.empty())
        return false;
    const std::string_view list = util::trim(no_proxy);
    if (list == "*")
        return true;
    const Address address = parse_address(host);
    if (address.family == 0 && host.back() == '.')
        host.remove_suffix(1);

    std::size_t pos = 0;
    while (pos < list.size()) {
        const auto end = list.find_first_of(", \t", pos);
        const auto entry = list.substr(pos, end == std::string_view::npos ? end : end - pos);
        if (!entry.empty() && entry_matches(entry, host, address, port))
            return true;
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return false;
}

bool is_local_address(std::string_view host)
{
    if (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    if (util::iequals(host, "localhost"))
        return true;
    const Address a = parse_address(host);
    if (a.family == AF_INET)
        return a.bytes[0] == 127 || (a.bytes[0] == 169 && a.bytes[1] == 254);
    if (a.family != AF_INET6)
        return false;
    for (const std::string_view local : {"::1/128", "fe80::/10", "fd00:ec2::254/128",
                                         "fd00:ec2::23/128"})
        if (address_matches(a, local))
            return true;
    return false;
}

const Proxy* proxy_for(const ProxySettings& settings, const Url& url)
{
    if (!settings.https_proxy || url.scheme != "https" || is_local_address(url.host) ||
        no_proxy_matches(settings.no_proxy, url.host, url.port))
        return nullptr;
    return &*settings.https_proxy;
}

} // namespace secrun::https
