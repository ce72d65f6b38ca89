// secrun_fake_cloud: loopback fakes of the cloud services secrun talks to.
//
//   secrun_fake_cloud --certs DIR [--cert valid|wrong-host|expired|self-signed]
//                     [--scenario FILE.json] --stats FILE.json [--ready FILE]
//                     [--log-requests]
//
// * Generates the test CA and certificates into DIR when missing (test_ca.hpp).
// * Listens on 127.0.0.1 on three ephemeral ports: TLS (vendor APIs, with the
//   --cert leaf), plain HTTP (metadata endpoints: IMDS, ECS, App Service) and
//   a plain-HTTP CONNECT proxy (fake_cloud_proxy.cpp).
// * Once listening, writes {"https_port":N,"http_port":N,"proxy_port":N,"pid":N}
//   to the ready file (atomically: readers never see a partial file).
// * Rewrites the stats file (atomically) after every counted event:
//     {"connections":{"https":N,"http":N,"proxy":N},
//      "tls_handshakes":N, "tls_handshake_failures":N,
//      "requests_total":N, "requests":{"GET /v3/...":N, ...},
//      "faults_applied":N, "throttled":N,
//      "proxy_tunnels":N, "proxy_auth_failures":N, "proxy_refused":N,
//      "vendor":{"doppler.downloads":N, ...}}
// * The scenario (fake_cloud_scenario.hpp) gives vendor data and fault rules.
// * SIGTERM or SIGINT: stops accepting, writes the stats a last time, exits 0.
// Exit status: 0 after a signal, 2 for bad arguments or scenario, 1 otherwise.
#include "fake_cloud.hpp"
#include "fake_cloud_scenario.hpp"
#include "fake_cloud_server.hpp"
#include "test_ca.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace secrun::fakes;

namespace
{

struct Args {
    std::filesystem::path certs;
    LeafKind cert = LeafKind::valid;
    std::filesystem::path scenario;
    std::filesystem::path stats;
    std::filesystem::path ready;
    bool log_requests = false;
};

constexpr std::string_view usage =
    "usage: secrun_fake_cloud --certs DIR [--cert valid|wrong-host|expired|self-signed]\n"
    "                         [--scenario FILE.json] --stats FILE.json [--ready FILE]\n"
    "                         [--log-requests]\n";

std::optional<std::string> parse_args(int argc, char** argv, Args& args)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--log-requests") {
            args.log_requests = true;
            continue;
        }
        if (i + 1 >= argc)
            return "missing value after " + std::string(flag);
        const std::string_view value = argv[++i];
        if (flag == "--certs") {
            args.certs = value;
        } else if (flag == "--cert") {
            const auto kind = parse_leaf_kind(value);
            if (!kind)
                return "unknown --cert '" + std::string(value) + "'";
            args.cert = *kind;
        } else if (flag == "--scenario") {
            args.scenario = value;
        } else if (flag == "--stats") {
            args.stats = value;
        } else if (flag == "--ready") {
            args.ready = value;
        } else {
            return "unknown option " + std::string(flag);
        }
    }
    if (args.certs.empty())
        return std::string("--certs is required");
    if (args.stats.empty())
        return std::string("--stats is required");
    return std::nullopt;
}

std::optional<std::string> load_scenario(const std::filesystem::path& path, Scenario& scenario)
{
    if (path.empty())
        return parse_scenario("{}", scenario);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return "cannot read " + path.string();
    std::ostringstream text;
    text << in.rdbuf();
    if (auto error = parse_scenario(text.str(), scenario))
        return path.string() + ": " + *error;
    return std::nullopt;
}

net::ssl::context make_tls(const Args& args)
{
    net::ssl::context tls(net::ssl::context::tls_server);
    tls.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1);
    tls.use_certificate_chain_file((args.certs / CertNames::cert(args.cert)).string());
    tls.use_private_key_file((args.certs / CertNames::key(args.cert)).string(),
                             net::ssl::context::pem);
    return tls;
}

std::optional<std::string> setup_vendors(ServerState& state)
{
    static const boost::json::object empty;
    for (const auto& entry : state.scenario.vendors) {
        bool known = false;
        for (const Vendor& vendor : registered_vendors())
            known = known || vendor.name == entry.key();
        if (!known)
            return "scenario.vendors: unknown vendor '" + std::string(entry.key()) + "'";
        if (!entry.value().is_object())
            return "scenario.vendors." + std::string(entry.key()) + ": expected an object";
    }
    for (const Vendor& vendor : registered_vendors()) {
        const boost::json::value* section = state.scenario.vendors.if_contains(vendor.name);
        VendorSetup setup{section ? section->get_object() : empty, state.routes, state.counters,
                          state.info};
        if (auto error = vendor.setup(setup))
            return "scenario.vendors." + vendor.name + ": " + *error;
    }
    return std::nullopt;
}

void report(std::exception_ptr error)
{
    if (!error)
        return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::cerr << "fake_cloud: accept loop failed: " << e.what() << '\n';
    }
}

int run(const Args& args)
{
    Scenario scenario;
    if (auto error = load_scenario(args.scenario, scenario)) {
        std::cerr << "fake_cloud: " << *error << '\n';
        return 2;
    }
    if (auto error = ensure_test_certs(args.certs)) {
        std::cerr << "fake_cloud: " << *error << '\n';
        return 1;
    }

    net::io_context ioc(1);
    auto state = std::make_shared<ServerState>(std::move(scenario), make_tls(args), args.stats,
                                               args.log_requests);
    const tcp::endpoint loopback(net::ip::make_address("127.0.0.1"), 0);
    tcp::acceptor https(ioc, loopback);
    tcp::acceptor http(ioc, loopback);
    tcp::acceptor proxy(ioc, loopback);
    state->info.https_port = https.local_endpoint().port();
    state->info.http_port = http.local_endpoint().port();
    state->info.proxy_port = proxy.local_endpoint().port();
    state->info.certs_dir = args.certs;

    if (auto error = setup_vendors(*state)) {
        std::cerr << "fake_cloud: " << *error << '\n';
        return 2;
    }
    state->flush_stats();

    net::co_spawn(ioc, accept_loop(std::move(https), Port::https, state), report);
    net::co_spawn(ioc, accept_loop(std::move(http), Port::http, state), report);
    net::co_spawn(ioc, accept_loop(std::move(proxy), Port::proxy, state), report);

    net::signal_set signals(ioc, SIGTERM, SIGINT);
    signals.async_wait([&ioc](const boost::system::error_code&, int) { ioc.stop(); });

    if (!args.ready.empty()) {
        const boost::json::object ready{{"https_port", state->info.https_port},
                                        {"http_port", state->info.http_port},
                                        {"proxy_port", state->info.proxy_port},
                                        {"pid", ::getpid()}};
        if (auto error = write_file_atomically(args.ready, boost::json::serialize(ready))) {
            std::cerr << "fake_cloud: " << *error << '\n';
            return 1;
        }
    }
    std::cerr << "fake_cloud: listening on " << state->info.https_url() << " (TLS), "
              << state->info.http_url() << " (HTTP), proxy 127.0.0.1:" << state->info.proxy_port
              << '\n';

    ioc.run();
    state->flush_stats();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    Args args;
    if (auto error = parse_args(argc, argv, args)) {
        std::cerr << "secrun_fake_cloud: " << *error << '\n' << usage;
        return 2;
    }
    try {
        return run(args);
    } catch (const std::exception& e) {
        std::cerr << "fake_cloud: " << e.what() << '\n';
        return 1;
    }
}
