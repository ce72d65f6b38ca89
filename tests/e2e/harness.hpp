// Running the built `secrun` binary from tests, with an environment built
// from nothing, and reading what the command it exec'd saw.
#pragma once

#include "env_map.hpp"
#include "fakes/temp_dir.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

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

// A program running in the background, for tests that signal it while it
// runs (run_secrun waits for the exit). Its stdout and stderr go to files of
// its own, stdin is /dev/null, and it starts with no signal blocked and every
// action at its default. If finish() was not called, the destructor kills it
// (SIGKILL) and reaps it, so a failed test leaves nothing running.
class Background {
public:
    Background(pid_t pid, testing::TempDir output);
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    ~Background();

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    // Waits for the exit and returns its status (128+N when killed by
    // signal N) and output. After `timeout` it kills the process and throws.
    [[nodiscard]] Run finish(std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
    pid_t pid_;
    testing::TempDir output_;
};

// Starts argv (argv[0] a path) with exactly `env`, in `cwd` (empty: ours).
// Throws std::runtime_error when it cannot be started.
[[nodiscard]] std::unique_ptr<Background> spawn(const std::vector<std::string>& argv,
                                                const EnvMap& env,
                                                const std::filesystem::path& cwd = {});

// spawn() of `secrun args...`.
[[nodiscard]] std::unique_ptr<Background> spawn_secrun(const std::vector<std::string>& args,
                                                       const EnvMap& env,
                                                       const std::filesystem::path& cwd = {});

// Decodes print_env's output (NUL-separated NAME=value entries).
[[nodiscard]] std::map<std::string, std::string> parse_env0(const std::string& bytes);

// `text` split at newlines (the last line needs none).
[[nodiscard]] std::vector<std::string> lines_of(const std::string& text);

// True when `needle` occurs in `haystack` (for "no value leaked" checks).
[[nodiscard]] inline bool contains(const std::string& haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string::npos;
}

} // namespace secrun::e2e
