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

// The options a reference may carry, in canonical order: "version" (Key
// Vault version, AWS VersionId) and "stage" (AWS VersionStage).
inline constexpr std::array<std::string_view, 2> reference_option_names = {"version", "stage"};

struct Reference {
    std::string backend; // empty: the configured backend (--backend / SECRETS_BACKEND)
    std::string key;     // as written; a backend maps it (Key Vault: '_' -> '-')
    // ?version=..&stage=.., percent-decoded, at most once each, in the order
    // of reference_option_names (so that equal references compare equal).
    std::vector<std::pair<std::string, std::string>> options;
    std::string field;   // "a.b" selects a field of a JSON value; empty: the whole value

    // The value of ?name=..., or empty.
    [[nodiscard]] std::string_view option(std::string_view name) const noexcept;
    // "aws_secrets://prod/db?stage=X#password", option values percent-encoded
    // where needed; parse_reference(r.to_string()) == r. The backend is shown
    // as resolved when `default_backend` is given and the reference names none.
    [[nodiscard]] std::string to_string(std::string_view default_backend = {}) const;

    bool operator==(const Reference&) const = default;
};

// Parses one reference: [backend://]key[?option=value&...][#field.path].
// The key is letters, digits and / _ + = . @ : - (AWS names and ARNs, Key
// Vault, Doppler and dotenv names). Options are checked against the named
// backend; without one, both are accepted and the resolver checks them.
// On error (Errc::manifest, a message that quotes only parts of the
// reference), `error_offset` (if given) is set to the byte offset in `text`
// where the problem starts, so that callers can add a column.
[[nodiscard]] Result<Reference> parse_reference(std::string_view text,
                                                std::size_t* error_offset = nullptr);

struct FileTarget {
    bool enabled = false;
    std::string path; // empty: a new file in a private directory; else absolute

    bool operator==(const FileTarget&) const = default;
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

    bool operator==(const Entry&) const = default;
};

struct Manifest {
    std::string file_name;
    std::vector<Entry> entries;
};

// Lines longer than this are refused (the caller bounds the file).
inline constexpr std::size_t max_line_length = 64 * 1024;

// Parses a whole manifest. Every error is appended to `errors` as
// "FILE:LINE:COLUMN: message" (Errc::manifest; the column counts code
// points from 1); the returned manifest holds the good entries. Never
// throws on bad input: NUL bytes, invalid UTF-8, control characters and
// over-long lines are errors like any other.
[[nodiscard]] Manifest parse(std::string_view text, std::string_view file_name, Errors& errors);

// Entries for inherited variables whose value is a reference with a known
// backend scheme ("DB_PASSWORD=aws_secrets://prod/db#password"), in name
// order. Values with other schemes (https://, postgres://) or none, and
// variables whose names are not POSIX names, are left alone. A bad
// reference appends "environment variable DB_PASSWORD: <message>".
[[nodiscard]] std::vector<Entry> entries_from_environment(const EnvMap& env, Errors& errors);

} // namespace secrun::manifest
