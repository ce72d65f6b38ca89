// Doppler answers: the first line gives a token (Doppler's shape, "dp.pt."
// and letters or digits), the rest is the body, read as a download and as an
// error answer's messages. Never crashes; the token never comes back out.
#include "fuzz_support.hpp"

#include "backends/doppler_protocol.hpp"

#include <cctype>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    namespace doppler = secrun::backends::doppler;
    const auto parts = secrun::fuzz::fields(secrun::fuzz::as_text(data, size), 2);
    const std::string_view body = parts[1];

    const auto download = doppler::parse_download(body, "muse/prd");
    if (download) {
        require(download->project.empty() || download->secrets.count("DOPPLER_PROJECT") == 1,
                "the project comes from DOPPLER_PROJECT");
    } else {
        require(download.error().code == secrun::Errc::bad_response,
                "a bad download is Errc::bad_response");
    }

    std::string token = "dp.pt.";
    for (char c : parts[0].substr(0, 32))
        if (std::isalnum(static_cast<unsigned char>(c)))
            token += c;
    if (token.size() == 6)
        token += 'x';
    const std::string messages = doppler::server_messages(body, token);
    require(messages.find(token) == std::string::npos, "the token never comes back out");
    require(messages.size() <= 303, "messages are cut at 300 bytes");
    (void)doppler::server_messages(body, parts[0]); // any token: must terminate
    return 0;
}
