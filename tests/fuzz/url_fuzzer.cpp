// Url::parse on arbitrary text: never crashes; a parsed URL has a scheme, a
// host, a numeric port and a target starting with '/', and origin() +
// target parses back to the same URL.
#include "fuzz_support.hpp"

#include "https/client.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    const auto url = secrun::https::Url::parse(secrun::fuzz::as_text(data, size));
    if (!url) {
        require(url.error().code == secrun::Errc::config, "URL errors are Errc::config");
        return 0;
    }
    require(url->scheme == "https" || url->scheme == "http", "the scheme is http or https");
    require(!url->host.empty(), "a URL has a host");
    require(!url->port.empty() && url->port.find_first_not_of("0123456789") == std::string::npos,
            "the port is a number");
    require(!url->target.empty() && url->target.front() == '/', "the target starts with '/'");

    const auto again = secrun::https::Url::parse(url->origin() + url->target);
    require(again.has_value(), "origin() + target parses");
    require(again->scheme == url->scheme && again->host == url->host &&
                again->port == url->port && again->target == url->target,
            "origin() + target parses to the same URL");
    return 0;
}
