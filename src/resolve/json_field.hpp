// "#a.b" selection of a field of a JSON secret value.
#pragma once

#include "error.hpp"
#include "secret.hpp"

#include <string_view>

namespace secrun::resolve {

// Selects `field` (dot-separated path; in an array a segment is a decimal
// index, in an object always a key) from the JSON document `json` (strict
// JSON: no comments, no trailing commas, valid UTF-8, at most 64 levels
// deep; when a key appears twice the last one counts). Strings are returned
// unescaped, byte for byte; numbers, booleans and null as their JSON text,
// exactly as written; objects and arrays as compact JSON.
//
// Errors name the field, never the value:
//   Errc::not_found  "field 'db.port' not found ('port' is missing in 'db')",
//                    "field 'hosts.2' not found ('hosts' has no element 2)",
//                    "field 'db.x' not found ('db' is a string, not an object)"
//   Errc::value      "value is not JSON, cannot select field 'x'",
//                    "value is nested deeper than 64 levels, cannot select field 'x'",
//                    "invalid field 'a..b'"
[[nodiscard]] Result<SecretString> select_json_field(std::string_view json, std::string_view field);

} // namespace secrun::resolve
