// "#a.b" selection of a field of a JSON secret value.
#pragma once

#include "error.hpp"
#include "secret.hpp"

#include <string_view>

namespace secrun::resolve {

// Selects `field` (dot-separated path; a number selects an array element)
// from the JSON document `json`. Strings are returned as is; numbers,
// booleans and null as their JSON text; objects and arrays as compact JSON.
// Errors name the field, never the value: "field 'db.port' not found ('port' is
// missing in 'db')", "value is not JSON, cannot select field 'x'".
[[nodiscard]] Result<SecretString> select_json_field(std::string_view json, std::string_view field);

} // namespace secrun::resolve
