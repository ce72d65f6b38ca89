// dotenv files, with the rules of the `dotenv` package most users know:
// KEY=value, optional "export ", '…' "…" `…` quoting, multi-line double-quoted
// values, \n expansion in double quotes only, inline # comments after
// unquoted values, whitespace trimmed, no $VAR expansion, bytes otherwise exact.
#pragma once

#include "error.hpp"
#include "secret.hpp"

#include <string_view>

namespace secrun::config {

// Parses `text`; later keys win. Errors ("FILE:LINE:COLUMN: message", never
// quoting a value) are appended to `errors`.
[[nodiscard]] SecretMap parse_dotenv(std::string_view text, std::string_view file_name,
                                     Errors& errors);

} // namespace secrun::config
