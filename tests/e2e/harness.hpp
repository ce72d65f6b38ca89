// Running the built `secrun` binary from tests, with an environment built
// from nothing, and reading what the command it exec'd saw.
#pragma once

#include "env_map.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace secrun::e2e {

struct Run {
    int status = -1;  // exit status (128+N when killed by signal N)
    std::string out;  // stdout
    std::string err;  // stderr
};

// Paths of the programs under test (from CMake).
[[nodiscard]] std::string secrun_binary();
[[nodiscard]] std::string helper(std::string_view name); // print_env, list_fds, exit_with, ...

// A minimal environment: PATH=/usr/bin:/bin only (plus what the test adds).
[[nodiscard]] EnvMap base_env();

// Runs `secrun args...` with exactly `env`, in `cwd` (empty: the test's own).
[[nodiscard]] Run run_secrun(const std::vector<std::string>& args, const EnvMap& env,
                             const std::filesystem::path& cwd = {},
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Decodes print_env's output (NUL-separated NAME=value entries).
[[nodiscard]] std::map<std::string, std::string> parse_env0(const std::string& bytes);

// True when `needle` occurs in `haystack` (for "no value leaked" checks).
[[nodiscard]] inline bool contains(const std::string& haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string::npos;
}

} // namespace secrun::e2e
