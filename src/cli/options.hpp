// Command-line options, after flag > environment variable > default precedence.
// cli/options.cpp is the only file that sees Boost.Program_options.
#pragma once

#include "env_map.hpp"
#include "error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace secrun::cli {

enum class Mode { run, check, version, help };

struct Options {
    Mode mode = Mode::run;

    std::string backend = "env";   // --backend, SECRETS_BACKEND
    std::string manifest;          // --manifest, SECRETS_MANIFEST, ./secrets.manifest; empty: none
    bool manifest_explicit = false; // named by flag or variable (then it must exist)
    std::vector<std::string> env_files; // --env-file...; default env.local when it exists
    bool env_files_explicit = false;

    bool pristine = false;                 // --pristine
    std::vector<std::string> preserve_env; // --preserve-env NAME[,NAME...]
    bool env_references = true;            // --no-env-references turns off
    bool scrub_credentials = false;        // --scrub-credentials
    bool init = false;                     // --init

    std::chrono::milliseconds timeout{30000};         // --timeout, SECRUN_TIMEOUT
    std::chrono::milliseconds connect_timeout{5000};  // --connect-timeout
    unsigned concurrency = 16;                         // --concurrency
    unsigned retries = 4;                              // --retries
    std::string ca_file;                               // --ca-file, SECRUN_CA_FILE
    bool aws_batch = false;                            // --aws-batch

    std::string cache_file;                            // --cache, SECRUN_CACHE
    std::chrono::seconds cache_max_age{86400};         // --cache-max-age

    int verbosity = 0; // -v (+1 each), -q (-1); SECRUN_LOG_LEVEL

    std::vector<std::string> command; // after "--"
};

// Parses argv (argv[0] is the program). `env` supplies the SECRETS_* and
// SECRUN_* variables; `file_exists` decides the env.local / secrets.manifest defaults.
[[nodiscard]] Result<Options> parse(int argc, const char* const* argv, const EnvMap& env,
                                    bool (*file_exists)(const char* path));

// The --help text (documents every option and every variable read).
[[nodiscard]] std::string help_text();

// Parses "30s", "500ms", "2m", "1h", "1d", or a bare number of seconds.
[[nodiscard]] Result<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace secrun::cli
