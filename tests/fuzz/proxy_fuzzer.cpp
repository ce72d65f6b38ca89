// HTTPS_PROXY / NO_PROXY: line 1 is a proxy URL, line 2 a NO_PROXY list,
// line 3 a host, line 4 a port. Never crashes; an error never repeats the
// proxy password.
#include "fuzz_support.hpp"

#include "env_map.hpp"
#include "https/proxy.hpp"
#include "util/strings.hpp"

#include <string>

namespace {

// The password parse_proxy_url would take from `text` ("" when none).
std::string_view password_in(std::string_view text)
{
    std::string_view rest = text;
    if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos)
        rest = rest.substr(scheme_end + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos)
        return {};
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    return colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1);
}

bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

// A password no message could hold by chance: [A-Z0-9]{6,}, a digit inside,
// letters at both ends. Fixed message text has no such word, util::quoted's
// "\x1f" escapes give only lower-case letters and digits, and the scheme is
// shown lower-cased; so if it occurs once in the URL, a message holding it
// has leaked it.
bool recognisable(std::string_view password)
{
    if (password.size() < 6 || !upper(password.front()) || !upper(password.back()))
        return false;
    bool has_digit = false;
    for (char c : password) {
        if (!upper(c) && !digit(c))
            return false;
        has_digit = has_digit || digit(c);
    }
    return has_digit;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    const auto parts = secrun::fuzz::fields(secrun::fuzz::as_text(data, size), 4);
    const std::string_view proxy_url = parts[0];
    const std::string_view no_proxy = parts[1];
    const std::string_view host = parts[2];
    const std::string_view port = parts[3];

    const auto proxy = secrun::https::parse_proxy_url(proxy_url);
    if (proxy) {
        require(!proxy->host.empty() && !proxy->port.empty(), "a proxy has a host and a port");
        require(proxy->display().find('@') == std::string::npos, "display() shows no credentials");
    } else {
        const std::string_view password = password_in(proxy_url);
        if (recognisable(password) && proxy_url.find(password) == proxy_url.rfind(password))
            require(proxy.error().message.find(password) == std::string::npos,
                    "a proxy error never repeats the password");
    }

    (void)secrun::https::no_proxy_matches(no_proxy, host, port);
    (void)secrun::https::is_local_address(host);

    secrun::EnvMap env;
    env.set("HTTPS_PROXY", std::string(proxy_url));
    env.set("NO_PROXY", std::string(no_proxy));
    const auto settings = secrun::https::proxy_settings(env);
    if (!settings)
        return 0;
    const std::string bracketed = host.find(':') != std::string_view::npos
                                      ? secrun::util::str_cat("[", host, "]")
                                      : std::string(host);
    const auto url = secrun::https::Url::parse(
        secrun::util::str_cat("https://", bracketed, port.empty() ? "" : ":", port, "/"));
    if (url) {
        const auto* chosen = secrun::https::proxy_for(*settings, *url);
        require(chosen == nullptr || settings->https_proxy.has_value(),
                "a proxy is used only when one is set");
        require(chosen == nullptr || !secrun::https::is_local_address(url->host),
                "local addresses are never proxied");
    }
    return 0;
}
