// FakeCloudProcess: runs secrun_fake_cloud for an e2e test or a benchmark.
//
//   FakeCloudProcess cloud({.scenario = R"({"vendors":{"doppler":{...}}})"});
//   env["DOPPLER_API_HOST"] = cloud.https_url();
//   env["SSL_CERT_FILE"] = cloud.ca_file().string();
//   ... run secrun ...
//   BOOST_TEST(cloud.requests("GET", "/v3/configs/config/secrets/download") == 1);
//
// The constructor writes the scenario into a private work directory, starts
// the server (Boost.Process; the path comes from the build), and waits until
// it is listening (bounded by ready_timeout). The destructor sends SIGTERM and
// waits (then SIGKILL). Failures throw std::runtime_error with the server's
// stderr attached, which Boost.Test reports with the test name.
#pragma once

#include "temp_dir.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::testing
{

struct FakeCloudOptions {
    // The scenario JSON text (see tests/fakes/fake_cloud_scenario.hpp).
    std::string scenario = "{}";
    // "valid", "wrong-host", "expired" or "self-signed".
    std::string cert = "valid";
    // Where the test CA lives; empty: shared_certs_dir(). Generated when missing.
    std::filesystem::path certs_dir{};
    std::chrono::milliseconds ready_timeout{15000};
    // One stderr line per request in the work directory's server.log.
    bool log_requests = true;
};

class FakeCloudProcess
{
public:
    explicit FakeCloudProcess(FakeCloudOptions options = {});
    FakeCloudProcess(const FakeCloudProcess&) = delete;
    FakeCloudProcess& operator=(const FakeCloudProcess&) = delete;
    ~FakeCloudProcess();

    [[nodiscard]] unsigned short https_port() const noexcept { return https_port_; }
    [[nodiscard]] unsigned short http_port() const noexcept { return http_port_; }
    [[nodiscard]] unsigned short proxy_port() const noexcept { return proxy_port_; }
    [[nodiscard]] std::string https_url() const;           // "https://127.0.0.1:PORT"
    [[nodiscard]] std::string https_localhost_url() const; // "https://localhost:PORT"
    // "https://LABEL.fake-cloud.test:PORT": a name only the fake's proxy
    // resolves (to 127.0.0.1), so requests to it must go through proxy_url().
    [[nodiscard]] std::string https_proxied_url(std::string_view label = "api") const;
    [[nodiscard]] std::string http_url() const;            // "http://127.0.0.1:PORT"
    [[nodiscard]] std::string proxy_url() const;           // "http://127.0.0.1:PORT"

    [[nodiscard]] const std::filesystem::path& certs_dir() const noexcept { return certs_dir_; }
    [[nodiscard]] std::filesystem::path ca_file() const;    // ca.pem
    [[nodiscard]] std::filesystem::path client_pem() const; // client.pem (cert + key)
    [[nodiscard]] const std::filesystem::path& work_dir() const noexcept { return work_.path(); }

    // The current stats file (see fake_cloud_main.cpp for its shape).
    [[nodiscard]] boost::json::object stats() const;
    // stats()["requests"]["METHOD PATH"], 0 when absent.
    [[nodiscard]] std::uint64_t requests(std::string_view method, std::string_view path) const;
    // A top-level counter ("tls_handshakes", "requests_total", "proxy_tunnels", ...),
    // or "connections.https"-style for nested ones, or "vendor.doppler.downloads".
    [[nodiscard]] std::uint64_t counter(std::string_view name) const;
    // Polls stats() until `done` holds; false after `timeout`. For events the
    // server counts after the client is gone (a rejected handshake).
    bool wait_for(const std::function<bool(const boost::json::object&)>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    // The server's stderr so far (request log, errors).
    [[nodiscard]] std::string log() const;
    // SIGTERM, then waits (SIGKILL after 5 s). Returns the exit status (0 on
    // a clean exit). Idempotent.
    int stop();

private:
    struct Child;
    TempDir work_;
    std::filesystem::path certs_dir_;
    std::unique_ptr<Child> child_;
    unsigned short https_port_ = 0;
    unsigned short http_port_ = 0;
    unsigned short proxy_port_ = 0;
    std::optional<int> exit_status_;
};

// One certificate directory per test process, generated once (RSA and EC key
// generation takes ~100 ms); removed when the process exits.
[[nodiscard]] const std::filesystem::path& shared_certs_dir();

// The secrun_fake_cloud executable the build produced.
[[nodiscard]] std::filesystem::path fake_cloud_executable();

} // namespace secrun::testing
