// Runs a helper command (AWS credential_process, `az account get-access-token`)
// on the run's event loop, bounded in time and output.
#pragma once

#include "env_map.hpp"
#include "error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace secrun::util {

struct SubprocessOutput {
    int exit_code = -1;
    std::string out; // may hold credentials: wiped on destruction
    std::string err; // bounded; callers decide whether any of it is safe to show

    SubprocessOutput() = default;
    SubprocessOutput(SubprocessOutput&&) noexcept = default;
    SubprocessOutput& operator=(SubprocessOutput&&) noexcept = default;
    ~SubprocessOutput();
};

struct SubprocessLimits {
    std::chrono::milliseconds timeout{30000};
    std::size_t max_output = 64 * 1024; // per stream; more is an error
};

// Runs argv (argv[0] is searched in env's PATH when it has no '/'), with
// exactly `env` as its environment, stdin from /dev/null, in `cwd` (empty: ours). Errors:
// Errc::config when the program is not found, Errc::timeout when it runs too
// long (it is killed), Errc::bad_response when it writes too much. A non-zero
// exit status is not an error here: callers read exit_code.
[[nodiscard]] boost::asio::awaitable<Result<SubprocessOutput>>
run_subprocess(std::vector<std::string> argv, EnvMap env, SubprocessLimits limits,
               std::string cwd = {});

} // namespace secrun::util
