// The manifest: which variables the command needs and where each comes from.
//
//   # NAME [= REFERENCE] [OPTION...]
//   DB_PASSWORD = aws_secrets://prod/db#password   optional  default="a b"  file=/run/x
//
// A reference is [backend://]key[?option=value&...][#json.field]. Parsing is
// pure; every error of a file is collected as "FILE:LINE:COLUMN: message".
#pragma once

#include "error.hpp"
#include "env_map.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrun::manifest {

// The backends a reference may name, in the spelling users write.
inline constexpr std::array<std::string_view, 4> backend_names = {
    "env", "azure_keyvault", "aws_secrets", "doppler"};

[[nodiscard]] bool is_backend_name(std::string_view name) noexcept;

struct Reference {
    std::string backend; // empty: the configured backend (--backend / SECRETS_BACKEND)
    std::string key;     // as written; a backend maps it (Key Vault: '_' -> '-')
    std::vector<std::pair<std::string, std::string>> options; // ?version=..&stage=..
    std::string field;   // "a.b" selects a field of a JSON value; empty: the whole value

    // The value of ?name=..., or empty.
    [[nodiscard]] std::string_view option(std::string_view name) const noexcept;
    // "aws_secrets://prod/db?stage=X#password" (the backend is shown as resolved
    // when `default_backend` is given and the reference names none).
    [[nodiscard]] std::string to_string(std::string_view default_backend = {}) const;
};

// Parses one reference. On error, `error_offset` (if given) is set to the
// byte offset in `text` where the problem starts, so callers can add a column.
[[nodiscard]] Result<Reference> parse_reference(std::string_view text,
                                                std::size_t* error_offset = nullptr);

struct FileTarget {
    bool enabled = false;
    std::string path; // empty: a new file in a private directory
};

struct Entry {
    std::string name;  // the environment variable to set
    Reference ref;     // key defaults to `name` when no "= REFERENCE" is written
    bool optional = false;
    std::optional<std::string> default_value; // implies optional
    FileTarget file;
    // Where it was declared, for messages: "secrets.manifest:12" or "environment".
    std::string origin;
    bool from_environment = false;
};

struct Manifest {
    std::string file_name;
    std::vector<Entry> entries;
};

// Parses a whole manifest. Every error is appended to `errors` as
// "FILE:LINE:COLUMN: message"; the returned manifest holds the good entries.
[[nodiscard]] Manifest parse(std::string_view text, std::string_view file_name, Errors& errors);

// Entries for inherited variables whose value is a reference with a known
// backend scheme ("DB_PASSWORD=aws_secrets://prod/db#password"). Values with
// other schemes (https://, postgres://) are left alone.
[[nodiscard]] std::vector<Entry> entries_from_environment(const EnvMap& env, Errors& errors);

} // namespace secrun::manifest
