// resolve_all(): the network phase. It owns the run's only io_context and
// returns after every socket, coroutine and backend of the run is destroyed.
//
// Every entry is resolved concurrently: each distinct secret (backend + key +
// version) is fetched once however many entries select fields of it, and each
// backend obtains its credentials once (Backend::prepare). All-or-nothing is
// the caller's decision: the outcome lists every entry and every failure.
#pragma once

#include "backends/backend.hpp"
#include "https/client.hpp"
#include "manifest/manifest.hpp"
#include "secret.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace secrun::resolve {

enum class Status {
    ok,        // resolved
    defaulted, // not found; the manifest's default applies
    missing,   // not found; optional, left unset
    failed,    // an error (a required entry not found is an error too)
};

struct Resolution {
    std::string name;      // the variable
    std::string backend;   // the backend it came from
    std::string reference; // the reference as written, rendered ("aws_secrets://prod/db#password")
    Status status = Status::failed;
    std::optional<SecretString> value; // set for ok and defaulted
    std::string source;    // "environment", "env.local", "default", "muse/prd", ...
    std::string version;   // when the backend reports one
    std::string error;     // why it failed or is missing (never a value)
    bool transient = false; // the failure says nothing about access (see Error::transient)
    manifest::FileTarget file;
};

struct Plan {
    std::vector<manifest::Entry> entries;
    // No manifest: inject every secret the default backend can list (env:
    // the dotenv files; doppler: the whole config). Entries still apply and win.
    bool everything = false;
};

struct Settings {
    std::string default_backend = "env";
    std::chrono::milliseconds timeout{30000};
    https::ClientOptions http;          // deadline is set by resolve_all
    std::vector<std::string> env_files;
    bool env_files_explicit = false;
    bool aws_batch = false;
};

using ClientFactory = std::function<std::unique_ptr<https::Client>(boost::asio::io_context&,
                                                                   const https::ClientOptions&)>;

struct Outcome {
    std::vector<Resolution> entries; // manifest order, then listed secrets by name
    Errors errors;                   // every failure, one line each, already with context
    https::Stats stats;
    std::vector<std::string> credential_variables; // what the backends used (--scrub-credentials)
};

[[nodiscard]] Outcome resolve_all(const Plan& plan, const Settings& settings, const EnvMap& env,
                                  const ClientFactory& make_client,
                                  std::function<std::chrono::system_clock::time_point()> now = {});

} // namespace secrun::resolve
