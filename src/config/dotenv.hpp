// dotenv files, read exactly as the `dotenv` npm package (v16) reads them:
// KEY=value and "KEY: value", optional "export ", '…' "…" `…` quoting (each
// may span lines), "\n" and "\r" expanded in double quotes only, "# comments"
// after values, white space trimmed, no $VAR expansion, bytes otherwise exact.
// Keys are dotenv's [A-Za-z0-9_.-]+. Where dotenv silently skips or mangles
// input, secrun reports an error instead (see dotenv.cpp for each case).
#pragma once

#include "error.hpp"
#include "secret.hpp"

#include <string_view>

namespace secrun::config {

// Parses `text`; later keys win. Every problem of the file is appended to
// `errors` (Errc::config, "FILE:LINE:COLUMN: message", never quoting text
// from the file): lines dotenv would skip, unterminated quotes, text after a
// closing quote, a '#' glued to an unquoted value, NUL bytes, invalid UTF-8.
// When there is any error the returned map is empty: a secrets file is read
// whole or not at all. The caller bounds the size of `text`.
[[nodiscard]] SecretMap parse_dotenv(std::string_view text, std::string_view file_name,
                                     Errors& errors);

} // namespace secrun::config
