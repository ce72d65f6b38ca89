// credential_process: a profile names a command that prints credentials as
// JSON (shared/protocols/aws.md §4.3). Bounded in time and output; its output
// and stderr may hold credentials, so neither ever reaches a message.
#pragma once

#include "auth/sigv4.hpp"
#include "env_map.hpp"
#include "error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::auth {

// Splits a command line as a POSIX shell splits words (quotes and
// backslashes; no expansion, no shell is run). nullopt when a quote is not
// closed or nothing is left.
[[nodiscard]] std::optional<std::vector<std::string>> split_command_line(std::string_view line);

inline constexpr std::chrono::milliseconds credential_process_timeout{30000};
inline constexpr std::size_t credential_process_max_output = 64 * 1024;

// Reads what a credential_process printed: {"Version": 1, "AccessKeyId",
// "SecretAccessKey", "SessionToken"?, "Expiration"?}. Errors never quote the
// output: "credential_process output: Version is not 1", "... no Version",
// credentials_from_json's ("credential_process output: no SecretAccessKey"),
// and expired credentials (Expiration not after `now`).
[[nodiscard]] Result<AwsCredentials> parse_credential_process_output(std::string_view out,
                                                                     std::chrono::system_clock::time_point now);

// Runs `command` with `env` as its environment and reads its stdout:
// {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?,
// "Expiration"?}. Errors: "credential_process exited with status 3" (the
// status, never the output), "credential_process output: Version is not 1",
// expired credentials (against `now`), and run_subprocess's own errors.
[[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>>
run_credential_process(std::string command, EnvMap env, std::chrono::system_clock::time_point now);

} // namespace secrun::auth
