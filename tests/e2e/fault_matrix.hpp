// The fault matrix (issue 7): one table per remote backend of what the
// network and the service can do wrong, and what secrun must do then.
//
// Each row starts its own fake cloud (tests/fakes/fake_cloud_scenario.hpp:
// fault rules, a bad certificate) and runs
//   secrun -v --timeout T --retries R [-m MANIFEST] -- print_env FILE
// with the backend's configuration changed as the row says, then checks:
//   * the exit status (0, or 125 for secrun's own failure);
//   * the command ran, with the backend's values, or FILE does not exist:
//     print_env writes its environment there, so stdout stays empty and a
//     run that failed provably started nothing;
//   * each expected stderr line (exact, but for "..." standing for any text);
//   * how many requests reached the faulted route (fail fast: 1; retried:
//     --retries + 1), when the row says;
//   * stdout and stderr hold no secret value, no credential and no token.
// The cache is never used (no --cache, no SECRUN_CACHE in the environment).
#pragma once

#include "e2e/harness.hpp"
#include "fakes/fake_cloud_process.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::e2e::faults
{

// What a row is run against: the fake's URLs, and a loopback URL where
// nothing listens (a refused connection).
struct Endpoints {
    const testing::FakeCloudProcess& cloud;
    std::string refused; // "127.0.0.1:PORT", nothing listening
};

struct Row {
    std::string name = {};
    std::vector<std::string> faults = {}; // fault rules, JSON objects
    std::string cert = "valid";           // the fake's certificate
    // Replaces the backend's scenario (other vendor data), when set.
    std::function<std::string(const std::vector<std::string>& faults)> scenario = {};
    // Changes to the backend's configuration (endpoints, credentials).
    std::function<void(EnvMap&, const Endpoints&)> adjust = {};
    std::string timeout = "8s"; // --timeout: generous, the rows assert no times
    unsigned retries = 2;       // --retries
    bool runs = false;          // the command must run, with the values
    // Lines stderr must hold ("..." stands for any text). Placeholders: {https} =
    // cloud.https_url(), {http} = cloud.http_url(), {refused} = Endpoints::refused, {localhost} =
    // cloud.https_localhost_url(), {print_env} = the command.
    std::vector<std::string> lines = {};
    // Requests that reached the backend's faulted route; nullopt: not checked.
    std::optional<unsigned> requests = std::nullopt;
    // Further checks on the fake's counters.
    std::function<void(const testing::FakeCloudProcess&)> check = {};
};

struct Backend {
    std::string name = {};
    // The scenario text: the backend's data plus `faults`.
    std::function<std::string(const std::vector<std::string>& faults)> scenario;
    // The working configuration, pointed at `cloud` and trusting its CA.
    std::function<void(EnvMap&, const testing::FakeCloudProcess&)> configure;
    std::string manifest; // "" for none
    // The route the faults aim at ("GET /v3/...") and what the command must see.
    std::string method;
    std::string path;
    std::map<std::string, std::string> values;
    // Never on stdout or stderr: every value, credential and token, and
    // marks that all of them share ("s3cr3t", "Tok3n").
    std::vector<std::string> secrets;
};

// A fault rule as JSON text: {"method": M, "path": P, "count": N, OPTIONS}.
[[nodiscard]] std::string rule(std::string_view method, std::string_view path,
                               std::string_view options, int count = 1);

// A loopback port with nothing listening (bound, then closed).
[[nodiscard]] unsigned short refused_port();

// Runs every row of `table` against `backend`, each in its own context.
void run_matrix(const Backend& backend, const std::vector<Row>& table);

} // namespace secrun::e2e::faults
