// The extension point of secrun_fake_cloud: how a vendor fake plugs in.
//
// secrun_fake_cloud is one loopback server (TLS port, plain-HTTP port, CONNECT
// proxy port) that hosts every vendor fake. The core (fake_cloud_server.cpp)
// owns sockets, TLS, keep-alive, fault injection and statistics; a vendor
// file only turns requests into responses. Vendor handlers never see Beast,
// Asio or a socket.
//
// Adding a vendor (aws_fake.cpp, azure_fake.cpp, ...):
//
//   1. Write one file in tests/fakes/ with a setup function and a static
//      registration object:
//
//        namespace {
//        std::optional<std::string> setup_example(fakes::VendorSetup& setup) {
//            auto state = std::make_shared<ExampleState>();
//            // Read this vendor's part of the scenario: `setup.section` is
//            // scenario["vendors"]["example"], or an empty object when the
//            // scenario has none. Reject unknown keys and wrong types: a
//            // typo in a test scenario must fail loudly, not be ignored.
//            if (auto error = state->load(setup.section)) return error;
//            setup.routes.add(fakes::Listener::https, "GET", "/example/",
//                [state, &counters = setup.counters](const fakes::HttpRequest& req)
//                    -> std::optional<fakes::HttpResponse> {
//                    if (!req.header("Authorization"))
//                        return fakes::HttpResponse::json(401, {{"error", "no token"}});
//                    counters.add("example.gets");
//                    return fakes::HttpResponse::json(200, {{"value", "x"}});
//                });
//            return std::nullopt;
//        }
//        const fakes::VendorRegistration registration{"example", &setup_example};
//        } // namespace
//
//   2. Add the file to SECRUN_FAKE_VENDOR_SOURCES in tests/fakes/CMakeLists.txt.
//      Vendor files are compiled straight into the executable (not into a
//      static library), so their registration objects are always linked.
//
// Rules for vendor fakes:
//   * Be strict where the real service is: verify signatures, require the
//     bearer token, answer with the vendor's exact error JSON and status. A
//     lenient fake proves nothing.
//   * Handlers run on the server's single thread, one at a time: state
//     captured by the handler needs no locking. Handlers must not block.
//   * A handler returns nullopt for a request that is not its own (another
//     route, or another vendor sharing a prefix such as POST "/"); the next
//     route is tried. When no route answers, the core sends 404 with a
//     plain-text "fake_cloud: no route for METHOD PATH" body.
//   * Count what tests want to assert on with `setup.counters.add(name)`.
//     Names are "<vendor>.<what>" ("doppler.downloads"); they appear in the
//     stats file under "vendor". Requests per method and path, connections,
//     handshakes and faults are counted by the core already.
//   * Faults (status, delay, reset, stall, truncate, oversize, invalid_json)
//     are applied by the core before a handler runs, from the scenario's
//     "faults" list; vendors do not implement them.
//   * The setup function runs after the listeners are bound, so
//     `setup.server` knows the ports (a token endpoint can name the fake's
//     own URL) and the certificate directory (to read client-cert.pem).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrun::fakes
{

enum class Listener {
    https, // the TLS port (vendor APIs, token endpoints)
    http,  // the plain-HTTP port (IMDS, ECS, App Service metadata endpoints)
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A request as a vendor handler sees it (std types only).
struct HttpRequest {
    Listener listener = Listener::https;
    std::string method;                                     // "GET", "POST", ...
    std::string target;                                     // as received: path?query
    std::string path;                                       // percent-decoded, no query
    std::vector<std::pair<std::string, std::string>> query; // decoded names and values, in order
    HeaderList headers;                                     // as received, in order
    std::string body;

    // First header with this name (case-insensitive), or nullopt.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
    // First query parameter with this (decoded) name, or nullopt.
    [[nodiscard]] std::optional<std::string_view> query_param(std::string_view name) const;
    // The Host header without its port, lower-case ("" when absent).
    [[nodiscard]] std::string host() const;
};

// A complete response. The core adds Content-Length, Date and Connection.
struct HttpResponse {
    unsigned status = 200;
    HeaderList headers;
    std::string body;

    // `body` serialised, with Content-Type: application/json.
    [[nodiscard]] static HttpResponse json(unsigned status, const boost::json::value& body);
    // Content-Type: text/plain.
    [[nodiscard]] static HttpResponse text(unsigned status, std::string body);
};

// Named counters reported under "vendor" in the stats file.
class Counters
{
public:
    void add(std::string_view name, std::uint64_t n = 1);
    [[nodiscard]] std::uint64_t get(std::string_view name) const;
    [[nodiscard]] const std::map<std::string, std::uint64_t, std::less<>>& all() const noexcept
    {
        return counters_;
    }

private:
    std::map<std::string, std::uint64_t, std::less<>> counters_;
};

using Handler = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

// Routes are tried in the order they were added (across vendors: in
// registration order, which is unspecified, so do not rely on it across files).
class Routes
{
public:
    // `method` "" matches every method; `path_prefix` matches the decoded path.
    void add(Listener listener, std::string method, std::string path_prefix, Handler handler);

    // The first route that matches and answers, or nullopt.
    [[nodiscard]] std::optional<HttpResponse> dispatch(const HttpRequest& request) const;

private:
    struct Route {
        Listener listener;
        std::string method;
        std::string path_prefix;
        Handler handler;
    };
    std::vector<Route> routes_;
};

// What the running server knows about itself.
struct ServerInfo {
    unsigned short https_port = 0;
    unsigned short http_port = 0;
    unsigned short proxy_port = 0;
    std::filesystem::path certs_dir; // ca.pem, client-cert.pem, ... (see test_ca.hpp)

    [[nodiscard]] std::string https_url() const; // "https://127.0.0.1:PORT"
    [[nodiscard]] std::string http_url() const;  // "http://127.0.0.1:PORT"
};

struct VendorSetup {
    const boost::json::object& section; // scenario["vendors"][name], or an empty object
    Routes& routes;
    Counters& counters;
    const ServerInfo& server;
};

// Returns an error message when the vendor's scenario section is invalid
// (the server then exits with status 2 and prints it), nullopt when ready.
using VendorSetupFn = std::optional<std::string> (*)(VendorSetup& setup);

struct Vendor {
    std::string name; // the key under "vendors" in the scenario
    VendorSetupFn setup;
};

// A static object of this type in a vendor's file registers it.
struct VendorRegistration {
    VendorRegistration(std::string_view name, VendorSetupFn setup);
};

// Every registered vendor, in registration order.
[[nodiscard]] const std::vector<Vendor>& registered_vendors();

// Helpers for vendor files.

// "a%2Db+c" -> "a-b c" when `plus_is_space` (query strings), else "a-b+c".
[[nodiscard]] std::string percent_decode(std::string_view text, bool plus_is_space);
// Standard base64 (with padding) decoding; nullopt on malformed input.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);
// Lower-case hex SHA-256 of `data`.
[[nodiscard]] std::string sha256_hex(std::string_view data);

} // namespace secrun::fakes
