// The interface every secrets backend implements.
//
// The resolver calls prepare() once with every distinct secret a run needs
// (credentials, tokens and whole-config downloads happen there, once), then
// fetch() for each distinct secret, all concurrently on one event loop.
#pragma once

#include "env_map.hpp"
#include "error.hpp"
#include "secret.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <compare>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::https {
class Client;
}

namespace secrun::backends {

// One distinct secret: the same SecretId is fetched once however many
// manifest entries select fields of it.
struct SecretId {
    std::string key;     // as written in the reference (the backend maps it)
    std::string version; // ?version=
    std::string stage;   // ?stage=
    auto operator<=>(const SecretId&) const = default;
};

struct Fetched {
    SecretString value;
    std::string version; // version id when the backend reports one (shown by `check`)
    std::string source;  // where it came from, e.g. "env.local", "environment", "muse/prd"
};

struct NamedSecret {
    std::string name;
    Fetched secret;
};

class Backend {
public:
    virtual ~Backend() = default;

    // The scheme users write: "env", "aws_secrets", ...
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;

    // Obtains credentials and does any bulk download for `wanted`. An error
    // here fails every entry of this backend with one message.
    [[nodiscard]] virtual boost::asio::awaitable<Result<void>> prepare(std::vector<SecretId> wanted);

    // One secret. Errc::not_found when the backend has no such secret, so
    // that optional entries and defaults can apply.
    [[nodiscard]] virtual boost::asio::awaitable<Result<Fetched>> fetch(SecretId id) = 0;

    // Every secret, for runs without a manifest (env: the dotenv files;
    // doppler: the whole config). Backends that cannot list say so.
    [[nodiscard]] virtual boost::asio::awaitable<Result<std::vector<NamedSecret>>> fetch_all();

    // Checks a key before anything is fetched (Key Vault allows only letters,
    // digits and dashes). Returns a message naming the key, or nothing.
    [[nodiscard]] virtual std::optional<std::string> check_key(std::string_view) const
    {
        return std::nullopt;
    }

    // The variables holding credentials this backend used, for --scrub-credentials.
    [[nodiscard]] virtual std::vector<std::string> credential_variables() const { return {}; }
};

// Everything a backend may read. References outlive the resolver's event loop.
struct Context {
    const EnvMap& env;                // the inherited environment
    https::Client& http;              // the run's one HTTPS client
    std::vector<std::string> env_files; // dotenv files (env backend)
    bool env_files_explicit = false;    // --env-file was given (a missing one is an error)
    bool aws_batch = false;             // --aws-batch
    std::function<std::chrono::system_clock::time_point()> now; // wall clock (signing)
};

[[nodiscard]] Result<std::unique_ptr<Backend>> make_backend(std::string_view name, Context& context);

} // namespace secrun::backends
