// Errors as values: every module boundary returns Result<T>.
//
// An Error carries a category (Errc), which decides the exit status and
// whether a failure is transient (worth retrying or serving from cache), and
// one human-readable line. Messages name variables, references, hosts and
// files, never a secret value.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace boost {
struct source_location;
}

namespace secrun {

enum class Errc {
    usage = 1,           // bad command line
    manifest,            // bad manifest or environment reference
    config,              // bad or missing configuration (variables, files)
    io,                  // local file or system call failure
    network,             // resolve / connect / reset: the backend is unreachable
    timeout,             // a deadline expired
    unavailable,         // the backend answered 5xx or 429 after every retry
    tls,                 // certificate or handshake failure
    auth,                // credentials missing or rejected (401/403)
    not_found,           // the backend has no such secret (or field)
    bad_response,        // the backend answered something we cannot use
    value,               // a value cannot be injected (NUL byte, bad field)
    exec_not_found,      // command not found (127)
    exec_not_executable, // command found but not executable (126)
    internal,            // a bug
};

struct Error {
    Errc code = Errc::internal;
    std::string message;

    Error() = default;
    Error(Errc c, std::string m) : code(c), message(std::move(m)) {}

    // True for failures that say nothing about access being revoked: the
    // backend was unreachable, slow or failing (DESIGN §4 "last known good").
    [[nodiscard]] bool transient() const noexcept
    {
        return code == Errc::network || code == Errc::timeout || code == Errc::unavailable;
    }
};

template <class T>
using Result = boost::system::result<T, Error>;

using Errors = std::vector<Error>;

// Prefixes the message with context: "DB_PASSWORD: aws_secrets://prod/db: <message>".
[[nodiscard]] Error with_context(Error e, std::string_view context);

// Exit status for a failure of secrun itself: 127 not found, 126 not
// executable, 125 anything else (as env(1) and docker run do).
[[nodiscard]] int exit_code_for(Errc code) noexcept;

// Called by Result<T>::value() on an error (found by ADL).
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

} // namespace secrun
