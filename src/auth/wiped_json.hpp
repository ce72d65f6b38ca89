// Boost.JSON parsing for answers that hold credentials or secret values:
// every block the parser and the resulting value allocate is wiped when it
// is freed. An internal helper of the auth/ and backends/ .cpp files (its
// Boost.JSON types never reach a public interface).
#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string_view>

namespace secrun::auth {

// The parsed document (its storage wipes itself), or nullopt when `text` is
// not exactly one JSON value.
[[nodiscard]] std::optional<boost::json::value> parse_json_wiped(std::string_view text);

// A string member of an object, or nullopt when absent or not a string.
[[nodiscard]] std::optional<std::string_view> json_string(const boost::json::object& object,
                                                          std::string_view key);

} // namespace secrun::auth
