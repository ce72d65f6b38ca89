#include "https/client.hpp"
#include "util/strings.hpp"

#include <cctype>
#include <charconv>

namespace secrun::https {

Result<Url> Url::parse(std::string_view text)
{
    using util::quoted;
    using util::str_cat;
    const auto bad = [&](std::string_view why) {
        return Error(Errc::config, str_cat("invalid URL ", quoted(text), ": ", why));
    };

    Url url;
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos)
        return bad("expected https://host");
    url.scheme = util::to_lower(text.substr(0, scheme_end));
    if (url.scheme != "https" && url.scheme != "http")
        return bad("the scheme must be https");
    std::string_view rest = text.substr(scheme_end + 3);

    const auto authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view target =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    if (authority.find('@') != std::string_view::npos)
        return bad("credentials in a URL are not accepted");
    if (const auto hash = target.find('#'); hash != std::string_view::npos)
        target = target.substr(0, hash);

    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return bad("unterminated IPv6 address");
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':')
                return bad("unexpected text after the IPv6 address");
            port = after.substr(1);
        }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty())
        return bad("no host");
    // A host is a name or an IPv4 address, or an IPv6 address in brackets;
    // anything else would not survive origin() (found by fuzz_url).
    const bool bracketed = authority.front() == '[';
    for (const char c : host) {
        const auto u = static_cast<unsigned char>(c);
        if (bracketed ? !(std::isxdigit(u) || c == ':' || c == '.')
                      : (u <= 0x20 || u == 0x7f || c == ':' || c == '[' || c == ']'))
            return bad(bracketed ? "invalid IPv6 address" : "invalid host");
    }
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
            return bad("invalid port");
    }
    url.host = util::to_lower(host);
    url.port = port.empty() ? (url.scheme == "https" ? "443" : "80") : std::string(port);
    url.target = target.empty() ? "/" : std::string(target);
    if (url.target.front() == '?')
        url.target.insert(url.target.begin(), '/');
    return url;
}

std::string Url::origin() const
{
    const bool default_port =
        (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
    const bool v6 = host.find(':') != std::string::npos;
    std::string out = util::str_cat(scheme, "://", v6 ? "[" : "", host, v6 ? "]" : "");
    if (!default_port)
        out += util::str_cat(":", port);
    return out;
}

} // namespace secrun::https
