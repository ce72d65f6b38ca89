// HTTP/1.1 responses through the client's own reader (Beast's parser with
// secrun's limits, https::read_response): the first byte sets how many bytes
// each read hands the parser (1..255, or 0 for all), the second byte the body
// limit; the rest is what the server sent. Never crashes; a body it accepts
// is within the limit.
#include "fuzz_support.hpp"

#include "https/beast_client.hpp"

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    constexpr std::array<std::size_t, 6> limits = {0, 1, 16, 1024, 64 * 1024, 1 << 20};
    if (size < 2)
        return 0;
    const std::size_t chunk = data[0];
    const std::size_t body_limit = limits[data[1] % limits.size()];
    const auto response = secrun::https::read_response(secrun::fuzz::as_text(data + 2, size - 2),
                                                       body_limit, "https://fuzz.example", chunk);
    if (response) {
        require(response->body.size() <= body_limit, "an accepted body is within the limit");
        require(response->status <= 999, "a status has three digits (\"020\" is 20)");
    } else {
        require(response.error().code == secrun::Errc::bad_response ||
                    response.error().code == secrun::Errc::network,
                "a bad response is bad_response or network");
    }
    return 0;
}
