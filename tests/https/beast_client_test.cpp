// The real HTTPS client against loopback TLS servers and a CONNECT proxy in
// this process (tests/https/mini_server.hpp), with a CA generated at start-up.
#include "https/beast_client.hpp"
#include "https/tls.hpp"

#include <boost/test/unit_test.hpp>

#include "log.hpp"
#include "mini_server.hpp"
#include "test_pki.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <optional>
#include <sstream>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using secrun::EnvMap;
using secrun::Errc;
using secrun::Result;
using secrun::https::Client;
using secrun::https::ClientOptions;
using secrun::https::make_client;
using secrun::https::Request;
using secrun::https::Response;
using secrun::https::Url;
using secrun::testing::Leaf;
using secrun::testing::MiniProxy;
using secrun::testing::MiniServer;
using secrun::testing::Reply;
using secrun::testing::test_pki;
using Clock = std::chrono::steady_clock;

namespace {

// Runs `task` on `ioc` until it completes (the servers' accept loops never
// do, so ioc.run() alone would not return).
template <class T>
T drive(asio::io_context& ioc, asio::awaitable<T> task)
{
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e)
            result.emplace(std::move(value));
        ioc.stop();
    });
    ioc.restart();
    ioc.run();
    if (error)
        std::rethrow_exception(error);
    BOOST_TEST_REQUIRE(result.has_value());
    return std::move(*result);
}

EnvMap env(EnvMap::Map vars) { return EnvMap(std::move(vars)); }

long long elapsed_ms(Clock::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Captures log lines at info level for one test.
struct LogCapture {
    std::ostringstream lines;
    LogCapture()
    {
        secrun::log::set_sink(&lines);
        secrun::log::set_level(secrun::log::Level::info);
    }
    ~LogCapture()
    {
        secrun::log::set_sink(nullptr);
        secrun::log::set_level(secrun::log::Level::warn);
    }
};

struct Fixture {
    asio::io_context ioc;
    MiniServer server{ioc, test_pki().server_context(Leaf::good)};

    [[nodiscard]] ClientOptions options(std::chrono::milliseconds deadline = 20s) const
    {
        ClientOptions o;
        o.ca_file = test_pki().ca_file();
        o.deadline = Clock::now() + deadline;
        return o;
    }
    [[nodiscard]] std::string origin() const
    {
        return "https://127.0.0.1:" + std::to_string(server.port());
    }
    [[nodiscard]] Request get(const std::string& url) const
    {
        Request r;
        r.url = Url::parse(url).value();
        return r;
    }
    [[nodiscard]] Request get() const { return get(origin() + "/v1/secret?name=db"); }

    Result<Response> send(Client& client, Request request)
    {
        return drive(ioc, client.send(std::move(request)));
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(beast_client, Fixture)

BOOST_AUTO_TEST_CASE(trusts_the_test_ca_given_as_ca_file)
{
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.headers = {{"Authorization", "Bearer t0ken"}};
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(res->body == "ok");
    BOOST_TEST_REQUIRE(server.requests().size() == 1u);
    const auto& seen = server.requests()[0];
    BOOST_TEST(seen.method == "GET");
    BOOST_TEST(seen.target == "/v1/secret?name=db");
    BOOST_TEST(seen.header("Host").value_or("") == "127.0.0.1:" + std::to_string(server.port()));
    BOOST_TEST(seen.header("User-Agent").value_or("") == "secrun/" SECRUN_VERSION);
    BOOST_TEST(seen.header("Authorization").value_or("") == "Bearer t0ken");
    const auto stats = client->stats();
    BOOST_TEST(stats.requests == 1u);
    BOOST_TEST(stats.connections == 1u);
    BOOST_TEST(stats.handshakes == 1u);
    BOOST_TEST(stats.retries == 0u);
}

BOOST_AUTO_TEST_CASE(trusts_the_test_ca_given_as_ssl_cert_file)
{
    ClientOptions o = options();
    o.ca_file.clear();
    auto client = make_client(ioc, o, env({{"SSL_CERT_FILE", test_pki().ca_file()}}));
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->status == 200u);
}

BOOST_AUTO_TEST_CASE(trusts_a_hashed_ssl_cert_dir)
{
    ClientOptions o = options();
    o.ca_file.clear();
    auto client = make_client(ioc, o, env({{"SSL_CERT_DIR", "/nonexistent:" + test_pki().ca_dir()}}));
    auto bad = send(*client, get());
    BOOST_TEST_REQUIRE(bad.has_error());
    BOOST_TEST((bad.error().code == Errc::config));
    BOOST_TEST(bad.error().message ==
               "SSL_CERT_DIR '/nonexistent': cannot load CA certificates: No such file or "
               "directory");

    auto good_client = make_client(ioc, o, env({{"SSL_CERT_DIR", test_pki().ca_dir()}}));
    auto res = send(*good_client, get());
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->status == 200u);
}

BOOST_AUTO_TEST_CASE(sends_a_body_with_its_length)
{
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.method = "POST";
    r.body = R"({"SecretId":"prod/db"})";
    r.headers = {{"Content-Type", "application/x-amz-json-1.1"}};
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST_REQUIRE(server.requests().size() == 1u);
    BOOST_TEST(server.requests()[0].method == "POST");
    BOOST_TEST(server.requests()[0].body == R"({"SecretId":"prod/db"})");
    BOOST_TEST(server.requests()[0].header("Content-Length").value_or("") == "22");
}

BOOST_AUTO_TEST_CASE(rejects_a_server_whose_ca_is_not_trusted)
{
    ClientOptions o = options();
    o.ca_file.clear();
    auto client = make_client(ioc, o, EnvMap{});
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::tls));
    BOOST_TEST(res.error().message ==
               "TLS handshake with " + origin() +
                   " failed: certificate verify failed (self-signed certificate in certificate "
                   "chain)");
    BOOST_TEST(client->stats().retries == 0u);
    BOOST_TEST(client->stats().handshakes == 0u);
    // Where the system CA directory is hashed (Debian), the first handshake
    // trusts it alone, then one more is tried with the whole system bundle.
    const auto system = secrun::https::tls::make_context(
        secrun::https::tls::TrustSettings::from(EnvMap{}, ""));
    BOOST_TEST_REQUIRE(system.has_value());
    BOOST_TEST(client->stats().connections == (system->bundle_skipped ? 2u : 1u));
    BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_CASE(rejects_a_certificate_for_another_host)
{
    MiniServer wrong(ioc, test_pki().server_context(Leaf::wrong_host));
    const std::string port = std::to_string(wrong.port());
    auto client = make_client(ioc, options(), EnvMap{});

    auto by_ip = send(*client, get("https://127.0.0.1:" + port + "/"));
    BOOST_TEST_REQUIRE(by_ip.has_error());
    BOOST_TEST((by_ip.error().code == Errc::tls));
    BOOST_TEST(by_ip.error().message == "TLS handshake with https://127.0.0.1:" + port +
                                            " failed: certificate verify failed (IP address "
                                            "mismatch)");

    auto by_name = send(*client, get("https://localhost:" + port + "/"));
    BOOST_TEST_REQUIRE(by_name.has_error());
    BOOST_TEST(by_name.error().message == "TLS handshake with https://localhost:" + port +
                                              " failed: certificate verify failed (hostname "
                                              "mismatch)");
    BOOST_TEST(wrong.requests().empty());
}

BOOST_AUTO_TEST_CASE(accepts_the_host_name_in_the_certificate)
{
    auto client = make_client(ioc, options(), EnvMap{});
    auto res = send(*client, get("https://localhost:" + std::to_string(server.port()) + "/"));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->status == 200u);
}

BOOST_AUTO_TEST_CASE(reports_an_unreadable_trust_store)
{
    ClientOptions o = options();
    o.ca_file = "/nonexistent/ca.pem";
    auto client = make_client(ioc, o, EnvMap{});
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::config));
    BOOST_TEST(res.error().message ==
               "--ca-file '/nonexistent/ca.pem': cannot load CA certificates: No such file or "
               "directory");

    auto env_client =
        make_client(ioc, options(), env({{"SSL_CERT_FILE", test_pki().ca_file() + ".missing"}}));
    auto env_res = send(*env_client, get());
    BOOST_TEST_REQUIRE(env_res.has_error());
    BOOST_TEST(env_res.error().message == "SSL_CERT_FILE '" + test_pki().ca_file() +
                                              ".missing': cannot load CA certificates: No such "
                                              "file or directory");
}

BOOST_AUTO_TEST_CASE(reuses_a_kept_alive_connection)
{
    auto client = make_client(ioc, options(), EnvMap{});
    for (int i = 0; i < 5; ++i) {
        auto res = send(*client, get());
        BOOST_TEST_REQUIRE(res.has_value());
        BOOST_TEST(res->status == 200u);
    }
    BOOST_TEST(client->stats().requests == 5u);
    BOOST_TEST(client->stats().connections == 1u);
    BOOST_TEST(client->stats().handshakes == 1u);
    BOOST_TEST(server.connections() == 1u);
    BOOST_TEST(server.handshakes() == 1u);
}

BOOST_AUTO_TEST_CASE(keeps_to_the_connection_bound_per_host)
{
    ClientOptions o = options();
    o.concurrency = 2;
    auto client = make_client(ioc, o, EnvMap{});
    std::vector<Reply> slow(6);
    for (auto& r : slow)
        r.delay = 100ms;
    server.script(std::move(slow));

    std::vector<std::optional<Result<Response>>> results(6);
    int pending = 6;
    for (auto& slot : results)
        asio::co_spawn(ioc, client->send(get()),
                       [&slot, &pending, this](std::exception_ptr, Result<Response> r) {
                           slot.emplace(std::move(r));
                           if (--pending == 0)
                               ioc.stop();
                       });
    ioc.restart();
    ioc.run();
    for (const auto& r : results) {
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST_REQUIRE(r->has_value());
        BOOST_TEST((*r)->status == 200u);
    }
    BOOST_TEST(server.max_concurrent() == 2u);
    BOOST_TEST(server.connections() == 2u);
    BOOST_TEST(client->stats().connections == 2u);
    BOOST_TEST(client->stats().requests == 6u);
}

BOOST_AUTO_TEST_CASE(retries_5xx_and_logs_each_retry)
{
    LogCapture log;
    server.script({Reply::status_only(500), Reply::status_only(503), Reply::status_only(200)});
    auto client = make_client(ioc, options(), EnvMap{});
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(client->stats().retries == 2u);
    BOOST_TEST(server.requests().size() == 3u);

    std::istringstream lines(log.lines.str());
    std::string first;
    std::string second;
    std::getline(lines, first);
    std::getline(lines, second);
    const std::string prefix = "secrun: info: retrying GET " + origin() + "/v1/secret (attempt ";
    BOOST_TEST(first.rfind(prefix + "2 of 5) in ", 0) == 0u, first);
    BOOST_TEST(first.substr(first.size() - 13) == " ms: HTTP 500", first);
    BOOST_TEST(second.rfind(prefix + "3 of 5) in ", 0) == 0u, second);
    BOOST_TEST(second.substr(second.size() - 13) == " ms: HTTP 503", second);
}

BOOST_AUTO_TEST_CASE(returns_the_last_response_when_attempts_run_out)
{
    server.script({Reply::status_only(503), Reply::status_only(503), Reply::status_only(200)});
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.max_attempts = 2;
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 503u);
    BOOST_TEST(server.requests().size() == 2u);
}

BOOST_AUTO_TEST_CASE(retries_what_retry_if_selects)
{
    server.script({Reply::status_only(400), Reply::status_only(200)});
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.retry_if = [](const Response& response) { return response.status == 400; };
    const auto start = Clock::now();
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(client->stats().retries == 1u);
    BOOST_TEST(elapsed_ms(start) < 1500); // throttling backoff: under 1 s
}

BOOST_AUTO_TEST_CASE(waits_as_long_as_retry_after_says)
{
    server.script({Reply::status_only(429, {{"Retry-After", "1"}}), Reply::status_only(200)});
    auto client = make_client(ioc, options(), EnvMap{});
    const auto start = Clock::now();
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(elapsed_ms(start) >= 990);
    BOOST_TEST(client->stats().retries == 1u);
}

BOOST_AUTO_TEST_CASE(returns_at_once_when_retry_after_outlasts_the_deadline)
{
    server.script({Reply::status_only(429, {{"Retry-After", "30"}}), Reply::status_only(200)});
    auto client = make_client(ioc, options(5s), EnvMap{});
    const auto start = Clock::now();
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 429u);
    BOOST_TEST(elapsed_ms(start) < 1000);
    BOOST_TEST(client->stats().retries == 0u);
}

BOOST_AUTO_TEST_CASE(does_not_retry_client_errors)
{
    for (const unsigned status : {400u, 401u, 403u, 404u}) {
        // A retry would get the server's default 200.
        server.script({Reply::status_only(status)});
        auto client = make_client(ioc, options(), EnvMap{});
        auto res = send(*client, get());
        BOOST_TEST_REQUIRE(res.has_value());
        BOOST_TEST(res->status == status);
        BOOST_TEST(client->stats().retries == 0u);
    }
    BOOST_TEST(server.requests().size() == 4u);
}

BOOST_AUTO_TEST_CASE(cuts_a_stalled_server_off_at_the_deadline)
{
    server.script({Reply::with(Reply::Kind::stall)});
    auto client = make_client(ioc, options(1500ms), EnvMap{});
    const auto start = Clock::now();
    auto res = send(*client, get());
    const auto took = elapsed_ms(start);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::timeout));
    BOOST_TEST(res.error().message ==
               "receive from " + origin() +
                   " did not finish before the overall deadline (--timeout)");
    BOOST_TEST(took >= 1400);
    BOOST_TEST(took < 3000);
}

BOOST_AUTO_TEST_CASE(retries_an_attempt_that_times_out)
{
    server.script({Reply::with(Reply::Kind::stall), Reply::status_only(200)});
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.timeout = 300ms;
    const auto start = Clock::now();
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(elapsed_ms(start) >= 300);
    BOOST_TEST(client->stats().retries == 1u);
    BOOST_TEST(server.connections() == 2u);
}

BOOST_AUTO_TEST_CASE(names_the_timeout_when_every_attempt_times_out)
{
    server.script({Reply::with(Reply::Kind::stall), Reply::with(Reply::Kind::stall)});
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.timeout = 200ms;
    r.max_attempts = 2;
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::timeout));
    BOOST_TEST(res.error().message ==
               "receive from " + origin() + " timed out after 200 ms (after 2 attempts)");
}

BOOST_AUTO_TEST_CASE(rejects_a_body_over_the_limit)
{
    Reply big;
    big.body.assign((1u << 20) + 1, 'x');
    Reply exact;
    exact.body.assign(1u << 20, 'y');
    server.script({big, exact});
    auto client = make_client(ioc, options(), EnvMap{});
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::bad_response));
    BOOST_TEST(res.error().message == "response from " + origin() + " is larger than 1 MiB");
    BOOST_TEST(client->stats().retries == 0u);

    auto fits = send(*client, get());
    BOOST_TEST_REQUIRE(fits.has_value());
    BOOST_TEST(fits->body.size() == 1u << 20);
}

BOOST_AUTO_TEST_CASE(retries_a_reset_connection)
{
    server.script({Reply::with(Reply::Kind::reset), Reply::status_only(200)});
    auto client = make_client(ioc, options(), EnvMap{});
    auto res = send(*client, get());
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(client->stats().retries == 1u);
    BOOST_TEST(server.connections() == 2u);
}

BOOST_AUTO_TEST_CASE(reports_resets_once_attempts_run_out)
{
    server.script({Reply::with(Reply::Kind::reset), Reply::with(Reply::Kind::reset)});
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.max_attempts = 2;
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::network));
    BOOST_TEST(res.error().message ==
               "receive from " + origin() + " failed: Connection reset by peer (after 2 attempts)");
}

BOOST_AUTO_TEST_CASE(reports_a_server_closing_mid_body)
{
    Reply half = Reply::with(Reply::Kind::close_mid_body);
    half.body = "0123456789";
    server.script({half, half});
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.max_attempts = 2;
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::network));
    BOOST_TEST(res.error().message ==
               "receive from " + origin() +
                   " failed: the server closed the connection in the middle of the response "
                   "(after 2 attempts)");
}

BOOST_AUTO_TEST_CASE(reports_a_reset_mid_body_as_a_reset)
{
    Reply half = Reply::with(Reply::Kind::reset_mid_body);
    half.body = "0123456789";
    server.script({half, half});
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.max_attempts = 2;
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::network));
    BOOST_TEST(res.error().message ==
               "receive from " + origin() +
                   " failed: the connection was reset in the middle of the response "
                   "(after 2 attempts)");
}

BOOST_AUTO_TEST_CASE(reopens_a_stale_kept_alive_connection_without_an_attempt)
{
    Reply then_close;
    then_close.close_after = true;
    server.script({then_close, Reply{}});
    auto client = make_client(ioc, options(), EnvMap{});
    Request first = get();
    first.max_attempts = 1;
    Request second = get();
    second.max_attempts = 1;
    auto a = send(*client, std::move(first));
    BOOST_TEST_REQUIRE(a.has_value());
    auto b = send(*client, std::move(second));
    BOOST_TEST_REQUIRE(b.has_value(), (b ? "" : b.error().message));
    BOOST_TEST(b->status == 200u);
    BOOST_TEST(client->stats().retries == 0u);
    BOOST_TEST(client->stats().connections == 2u);
    BOOST_TEST(server.requests().size() == 2u);
}

BOOST_AUTO_TEST_CASE(reports_a_refused_connection)
{
    unsigned short closed_port = 0;
    {
        asio::ip::tcp::acceptor probe(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        closed_port = probe.local_endpoint().port();
    }
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get("https://127.0.0.1:" + std::to_string(closed_port) + "/");
    r.max_attempts = 2;
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::network));
    BOOST_TEST(res.error().message == "connect to https://127.0.0.1:" +
                                          std::to_string(closed_port) +
                                          " failed: Connection refused (after 2 attempts)");
}

BOOST_AUTO_TEST_CASE(refuses_plain_http_unless_allowed_and_local)
{
    auto client = make_client(ioc, options(), EnvMap{});
    Request remote = get("http://example.com/latest/api/token");
    remote.allow_http = true;
    auto a = send(*client, std::move(remote));
    BOOST_TEST_REQUIRE(a.has_error());
    BOOST_TEST((a.error().code == Errc::config));
    BOOST_TEST(a.error().message ==
               "refusing plain http:// to http://example.com: only loopback and link-local "
               "metadata addresses may be reached without TLS");

    auto b = send(*client, get("http://127.0.0.1:" + std::to_string(server.port()) + "/"));
    BOOST_TEST_REQUIRE(b.has_error());
    BOOST_TEST(b.error().message == "refusing plain http:// to http://127.0.0.1:" +
                                        std::to_string(server.port()) +
                                        ": secrets and tokens travel only over https");
    BOOST_TEST(client->stats().connections == 0u);
}

BOOST_AUTO_TEST_CASE(speaks_plain_http_to_loopback_when_allowed)
{
    MiniServer plain(ioc, nullptr);
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get("http://127.0.0.1:" + std::to_string(plain.port()) + "/latest/api/token");
    r.method = "PUT";
    r.allow_http = true;
    r.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(client->stats().handshakes == 0u);
    BOOST_TEST_REQUIRE(plain.requests().size() == 1u);
    BOOST_TEST(plain.requests()[0].header("Content-Length").value_or("") == "0");
}

BOOST_AUTO_TEST_CASE(tunnels_through_a_connect_proxy_with_basic_auth)
{
    MiniProxy proxy(ioc, server.port(), "Basic dXNlcjpwQHNz"); // user:p@ss
    const std::string proxy_url = "http://user:p%40ss@127.0.0.1:" + std::to_string(proxy.port());
    auto client = make_client(ioc, options(), env({{"HTTPS_PROXY", proxy_url}}));
    const std::string authority = "proxied.example:" + std::to_string(server.port());
    for (int i = 0; i < 2; ++i) {
        auto res = send(*client, get("https://" + authority + "/v1/secret"));
        BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
        BOOST_TEST(res->status == 200u);
    }
    BOOST_TEST(proxy.connect_targets() == std::vector<std::string>{authority});
    BOOST_TEST(proxy.authorizations() == std::vector<std::string>{"Basic dXNlcjpwQHNz"});
    BOOST_TEST_REQUIRE(server.requests().size() == 2u);
    BOOST_TEST(server.requests()[0].header("Host").value_or("") == authority);
    BOOST_TEST(server.handshakes() == 1u);
}

BOOST_AUTO_TEST_CASE(reports_a_proxy_that_refuses_the_credentials)
{
    MiniProxy proxy(ioc, server.port(), "Basic dXNlcjpwQHNz");
    const std::string proxy_display = "http://127.0.0.1:" + std::to_string(proxy.port());
    auto client = make_client(
        ioc, options(),
        env({{"https_proxy", "http://user:wrong@127.0.0.1:" + std::to_string(proxy.port())}}));
    const std::string origin_text = "https://proxied.example:" + std::to_string(server.port());
    auto res = send(*client, get(origin_text + "/"));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::config));
    BOOST_TEST(res.error().message == "proxy CONNECT to " + origin_text + " via " +
                                          proxy_display +
                                          " failed: HTTP 407 Proxy Authentication Required");
    BOOST_TEST(proxy.connect_targets().size() == 1u);
}

BOOST_AUTO_TEST_CASE(reports_a_bad_proxy_setting_on_every_request)
{
    auto client = make_client(ioc, options(), env({{"HTTPS_PROXY", "socks5://user:pw@p:1"}}));
    for (int i = 0; i < 2; ++i) {
        auto res = send(*client, get());
        BOOST_TEST_REQUIRE(res.has_error());
        BOOST_TEST((res.error().code == Errc::config));
        BOOST_TEST(res.error().message ==
                   "HTTPS_PROXY: invalid proxy URL 'socks5://***@p:1': SOCKS proxies are not "
                   "supported; use an http:// proxy");
    }
    BOOST_TEST(server.connections() == 0u);
}

BOOST_AUTO_TEST_CASE(refuses_header_injection)
{
    auto client = make_client(ioc, options(), EnvMap{});
    Request r = get();
    r.headers = {{"X-Token", "abc\r\nX-Evil: 1"}};
    auto res = send(*client, std::move(r));
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().message == "invalid header 'X-Token' in a request to " + origin());

    Request bad_method = get();
    bad_method.method = "GET / HTTP/1.1\r\nX:";
    auto m = send(*client, std::move(bad_method));
    BOOST_TEST_REQUIRE(m.has_error());
    BOOST_TEST(m.error().message ==
               "invalid method 'GET / HTTP/1.1\\x0d\\x0aX:' in a request to " + origin());

    Request bad_target = get();
    bad_target.url.target = "/v1/a b";
    auto t = send(*client, std::move(bad_target));
    BOOST_TEST_REQUIRE(t.has_error());
    BOOST_TEST(t.error().message == "invalid request target (it must be percent-encoded ASCII) "
                                    "in a request to " + origin());
    BOOST_TEST(server.connections() == 0u);
}

BOOST_AUTO_TEST_CASE(gives_up_waiting_for_a_connection_at_the_deadline)
{
    ClientOptions o = options(1s);
    o.concurrency = 1;
    server.script({Reply::with(Reply::Kind::stall)});
    auto client = make_client(ioc, o, EnvMap{});
    std::vector<std::optional<Result<Response>>> results(2);
    int pending = 2;
    for (auto& slot : results)
        asio::co_spawn(ioc, client->send(get()),
                       [&slot, &pending, this](std::exception_ptr, Result<Response> r) {
                           slot.emplace(std::move(r));
                           if (--pending == 0)
                               ioc.stop();
                       });
    ioc.restart();
    ioc.run();
    BOOST_TEST_REQUIRE(results[0].has_value());
    BOOST_TEST_REQUIRE(results[1].has_value());
    BOOST_TEST_REQUIRE(results[0]->has_error());
    BOOST_TEST_REQUIRE(results[1]->has_error());
    BOOST_TEST(results[0]->error().message ==
               "receive from " + origin() +
                   " did not finish before the overall deadline (--timeout)");
    BOOST_TEST(results[1]->error().message ==
               "waiting for a connection to " + origin() +
                   " did not finish before the overall deadline (--timeout)");
    BOOST_TEST(server.connections() == 1u);
}

BOOST_AUTO_TEST_CASE(survives_destruction_with_requests_in_flight)
{
    // The client and its io_context go away while requests are suspended
    // (as the resolver does when its deadline passes): nothing may crash or
    // leak (the asan preset checks).
    {
        asio::io_context local;
        MiniServer stalling(local, test_pki().server_context(Leaf::good));
        stalling.script({Reply::with(Reply::Kind::stall), Reply::with(Reply::Kind::stall)});
        ClientOptions o = options();
        o.concurrency = 1;
        auto client = make_client(local, o, EnvMap{});
        const std::string url = "https://127.0.0.1:" + std::to_string(stalling.port()) + "/";
        int completed = 0;
        for (int i = 0; i < 3; ++i)
            asio::co_spawn(local, client->send(get(url)),
                           [&completed](std::exception_ptr, Result<Response>) { ++completed; });
        local.run_for(300ms);
        BOOST_TEST(completed == 0);
        client.reset();
    }
    BOOST_TEST(true);
}

BOOST_AUTO_TEST_SUITE_END()
