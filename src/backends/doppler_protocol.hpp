// What Doppler answers (protocols/azure_doppler.md §4), read without I/O: the
// download of a config and the messages of an error answer. Pure.
#pragma once

#include "error.hpp"
#include "secret.hpp"

#include <string>
#include <string_view>

namespace secrun::backends::doppler {

// A config as the download (format=json) gives it: a flat JSON object of
// names to computed values, Doppler's own DOPPLER_PROJECT and DOPPLER_CONFIG
// included (they name the config).
struct Download {
    SecretMap secrets;   // every entry, the metadata keys too
    std::string project; // DOPPLER_PROJECT's value, "" when absent
    std::string config;  // DOPPLER_CONFIG's value, "" when absent
};

// Parses a download body; every block the JSON parser allocates is wiped
// when freed. Errors (Errc::bad_response) name `where` and at most a key,
// never a value:
//   "Doppler returned invalid JSON for muse/prd (<parser's reason>)"
//   "Doppler returned JSON that is not an object for muse/prd"
//   "Doppler returned a value that is not a string for 'PORT' in muse/prd"
[[nodiscard]] Result<Download> parse_download(std::string_view body, std::string_view where);

// Doppler's {"messages":[...],"success":false}: the string messages joined
// with "; ", every occurrence of `token` replaced by "[token]" (a server
// echoing the credential must not put it into our output), control
// characters made spaces, cut at 300 bytes ("..." marks a cut). "" when the
// body holds no such messages.
[[nodiscard]] std::string server_messages(std::string_view body, std::string_view token);

// Project and config names as Doppler allows them (letters, digits, - and
// _), at most 100 bytes: only such names from a server are echoed.
[[nodiscard]] bool is_plain_name(std::string_view name) noexcept;

} // namespace secrun::backends::doppler
