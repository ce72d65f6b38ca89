// Shared by the Doppler end-to-end tests (doppler_e2e_test.cpp,
// doppler_network_e2e_test.cpp): the fake cloud's Doppler data, a fixture
// that runs the built secrun against it, and the leak scan every run gets.
//
// Every run is scanned: no secret value and no token may appear on secrun's
// stdout or stderr. A child that must show its environment writes it to a
// file (print_env FILE), so that the scan covers stdout too.
#pragma once

#include "e2e/harness.hpp"
#include "fakes/fake_cloud_process.hpp"
#include "fakes/temp_dir.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::e2e::doppler
{

// As the seed document (shared/seed/secrets-management-setup.md) configures
// Doppler: DOPPLER_TOKEN (a service token), DOPPLER_PROJECT, SECRETS_BACKEND.
inline const std::string service_token = "dp.st.prd.S3rv1ceTok3nE2eQ8wLp";
inline const std::string personal_token = "dp.pt.P3rs0nalTok3nE2eK4zMn";
inline const std::string unknown_token = "dp.st.prd.Unkn0wnTok3nE2eR2d";
inline constexpr std::string_view download_path = "/v3/configs/config/secrets/download";

// Every value below contains "s3cr3t", every token "Tok3n" and the proxy
// password of the tests "pr0xy-pa55": the leak scan looks for those marks as
// well as for each full value.
inline const std::vector<std::string> secret_values = {
    "ch-host-s3cr3t-Vq81.internal",
    "dd-api-s3cr3t-Lm29x",
    "postgres://muse:pw-s3cr3t-Zk9@db:5432/muse",
    "user-s3cr3t-Uu5",
    "json-s3cr3t-Pw77",
    "line one\nline \"two\" $HOME 'q' пароль-s3cr3t-Nn4",
    "postgres://alice:dev-s3cr3t-Ab3@localhost/dev",
    "alice-s3cr3t-Xy1",
    "aws-s3cr3t-Hh6",
};

// A scenario: the Doppler data (project muse: configs prd and dev_alice;
// service_token reads muse/prd, personal_token any config), plus fault rules
// and other top-level keys ("latency_ms": 300, "proxy": {...}).
[[nodiscard]] std::string scenario(const std::vector<std::string>& faults = {},
                                   std::string_view extra = "");

// A fault rule for the next `count` downloads (-1: all of them), e.g.
// download_fault(R"("action": "reset")").
[[nodiscard]] std::string download_fault(std::string_view action_and_options, int count = 1);

// Boost.Test checks: no value, no token and no proxy password in `text`.
void expect_nothing_secret(const std::string& text, std::string_view what);

// Whether secrun starts without the system bundle file (the system
// directory is hashed): then a certificate from an unknown issuer gets a
// second handshake with the bundle loaded (https/tls.hpp, make_context).
[[nodiscard]] bool system_bundle_skipped();

[[nodiscard]] std::chrono::milliseconds since(std::chrono::steady_clock::time_point start);

// The delay of a "secrun: info: retrying ... (attempt N of M) in D ms: REASON"
// line, in milliseconds; -1 when the line has no such delay.
[[nodiscard]] long retry_delay_ms(const std::string& line);

[[nodiscard]] bool ends_with(const std::string& text, std::string_view tail);

// The exact stderr of a run without a manifest whose Doppler download failed.
[[nodiscard]] std::string whole_config_failure(std::string_view message);

struct DopplerFixture {
    testing::TempDir dir{"e2e-doppler"};
    EnvMap env = base_env();
    std::filesystem::path child_file = dir / "child.env0";

    // The seed's configuration (SECRETS_BACKEND, DOPPLER_TOKEN = service_token,
    // DOPPLER_PROJECT=muse), pointed at `cloud` and trusting its CA.
    void configure(const testing::FakeCloudProcess& cloud);

    std::string write(std::string_view name, std::string_view content);

    // Runs secrun in `dir` and scans both of its outputs.
    Run run(const std::vector<std::string>& args);

    // secrun ARGS -- print_env FILE
    Run run_child(std::vector<std::string> args);

    // The environment the child wrote, after a run that must have succeeded.
    std::map<std::string, std::string> child_env(const Run& r);

    // A run that failed before starting the command (stderr is checked by the caller).
    void expect_not_started(const Run& r);
};

} // namespace secrun::e2e::doppler
