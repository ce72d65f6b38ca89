// Finding the command in the PATH of the *new* environment, by execvp's rules (pure).
//
// glibc's execvpe searches the caller's PATH, not the one in envp (STYLE §3.8),
// so secrun searches itself and then calls execve.
#pragma once

#include "error.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::exec {

/// Whether `path` can be executed: 0 when it can, else the errno that
/// execve would most likely fail with (ENOENT, ENOTDIR, EACCES, ...).
using ExecutableCheck = std::function<int(const std::string& path)>;

/// The real check: a regular file (else EACCES, as execve says for a
/// directory) that faccessat(X_OK, AT_EACCESS) accepts.
[[nodiscard]] int check_executable(const std::string& path);

/// glibc's PATH when the variable is unset (confstr(_CS_PATH)).
inline constexpr std::string_view default_path = "/bin:/usr/bin";

/// The file execve should run for `name`, by execvp's rules:
///  - a name containing '/' is returned as is, unchecked (execve reports);
///  - otherwise each element of `path` (default_path when nullopt) is tried in
///    order, an empty element meaning the current directory ("./name");
///  - ENOENT, ENOTDIR, ESTALE, ENODEV and ETIMEDOUT go on to the next
///    element; EACCES is remembered and the search goes on; any other error
///    ends the search.
/// Errors:
///  - Errc::exec_not_found (127): "command 'foo' not found in PATH";
///  - Errc::exec_not_executable (126), when only a non-executable match was
///    seen: "command 'foo' is not executable: Permission denied", or when
///    another error ended the search: "command 'foo' is not executable: <strerror>".
[[nodiscard]] Result<std::string> find_in_path(std::string_view name,
                                               std::optional<std::string_view> path,
                                               const ExecutableCheck& is_executable);

} // namespace secrun::exec
