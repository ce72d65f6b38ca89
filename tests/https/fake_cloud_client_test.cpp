// The real HTTPS client against secrun_fake_cloud (tests/fakes), an
// independently written server in another process: TLS with the fakes' CA,
// keep-alive, and its fault rules.
#include "https/beast_client.hpp"

#include <boost/test/unit_test.hpp>

#include "fake_cloud_process.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>

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
using secrun::testing::FakeCloudOptions;
using secrun::testing::FakeCloudProcess;
using Clock = std::chrono::steady_clock;

namespace {

// Fault rules answer every path a test uses, so no vendor fake is involved.
constexpr const char* scenario = R"({
  "faults": [
    {"path": "/retry", "action": "status", "status": 503, "count": 2},
    {"path": "/retry", "action": "status", "status": 200, "body": "done", "count": -1},
    {"path": "/throttled", "action": "status", "status": 429,
     "headers": {"Retry-After": "1"}, "count": 1},
    {"path": "/throttled", "action": "status", "status": 200, "body": "done", "count": -1},
    {"path": "/reset", "action": "reset", "count": 1},
    {"path": "/reset", "action": "status", "status": 200, "body": "done", "count": -1},
    {"path": "/cut", "action": "truncate", "count": -1},
    {"path": "/big", "action": "oversize", "size": 2097152, "count": -1},
    {"path": "/stall", "action": "stall", "count": -1},
    {"path": "/ok", "action": "status", "status": 200, "body": "fine", "count": -1}
  ]
})";

struct Cloud {
    asio::io_context ioc;
    FakeCloudProcess cloud{FakeCloudOptions{.scenario = scenario}};

    std::unique_ptr<Client> client(std::chrono::milliseconds deadline = 20s)
    {
        ClientOptions o;
        o.deadline = Clock::now() + deadline;
        return make_client(ioc, o, EnvMap(EnvMap::Map{{"SSL_CERT_FILE", cloud.ca_file().string()}}));
    }

    Result<Response> send(Client& client, const std::string& path, int max_attempts = 0)
    {
        Request r;
        r.url = Url::parse(cloud.https_url() + path).value();
        r.max_attempts = max_attempts;
        std::optional<Result<Response>> out;
        asio::co_spawn(ioc, client.send(std::move(r)),
                       [&out](std::exception_ptr, Result<Response> res) { out.emplace(std::move(res)); });
        ioc.restart();
        ioc.run(); // the client is the only work on this io_context
        BOOST_TEST_REQUIRE(out.has_value());
        return std::move(*out);
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(fake_cloud_client, Cloud)

BOOST_AUTO_TEST_CASE(keeps_one_verified_connection_for_sequential_requests)
{
    auto c = client();
    for (int i = 0; i < 3; ++i) {
        auto res = send(*c, "/ok");
        BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
        BOOST_TEST(res->status == 200u);
        BOOST_TEST(res->body == "fine");
    }
    BOOST_TEST(c->stats().handshakes == 1u);
    BOOST_TEST(cloud.counter("tls_handshakes") == 1u);
    BOOST_TEST(cloud.requests("GET", "/ok") == 3u);
}

BOOST_AUTO_TEST_CASE(retries_503_then_succeeds)
{
    auto c = client();
    auto res = send(*c, "/retry");
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(res->body == "done");
    BOOST_TEST(c->stats().retries == 2u);
}

BOOST_AUTO_TEST_CASE(honours_retry_after_from_the_fake)
{
    auto c = client();
    const auto start = Clock::now();
    auto res = send(*c, "/throttled");
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->status == 200u);
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)
                   .count() >= 990);
}

BOOST_AUTO_TEST_CASE(retries_a_reset)
{
    auto c = client();
    auto res = send(*c, "/reset");
    BOOST_TEST_REQUIRE(res.has_value(), (res ? "" : res.error().message));
    BOOST_TEST(res->body == "done");
    BOOST_TEST(c->stats().retries == 1u);
}

BOOST_AUTO_TEST_CASE(reports_a_truncated_body)
{
    auto c = client();
    auto res = send(*c, "/cut", 2);
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::network));
    BOOST_TEST(res.error().message ==
               "receive from " + cloud.https_url() +
                   " failed: the server closed the connection in the middle of the response "
                   "(after 2 attempts)");
}

BOOST_AUTO_TEST_CASE(refuses_an_oversized_body)
{
    auto c = client();
    auto res = send(*c, "/big");
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST(res.error().message ==
               "response from " + cloud.https_url() + " is larger than 1 MiB");
}

BOOST_AUTO_TEST_CASE(stops_a_stalled_request_at_the_deadline)
{
    auto c = client(1s);
    auto res = send(*c, "/stall");
    BOOST_TEST_REQUIRE(res.has_error());
    BOOST_TEST((res.error().code == Errc::timeout));
    BOOST_TEST(res.error().message ==
               "receive from " + cloud.https_url() +
                   " did not finish before the overall deadline (--timeout)");
}

BOOST_AUTO_TEST_CASE(rejects_the_fakes_wrong_host_certificate)
{
    FakeCloudProcess wrong(FakeCloudOptions{.scenario = scenario, .cert = "wrong-host"});
    ClientOptions o;
    o.deadline = Clock::now() + 20s;
    o.ca_file = wrong.ca_file().string();
    auto c = make_client(ioc, o, EnvMap{});
    Request r;
    r.url = Url::parse(wrong.https_url() + "/ok").value();
    std::optional<Result<Response>> out;
    asio::co_spawn(ioc, c->send(std::move(r)),
                   [&out](std::exception_ptr, Result<Response> res) { out.emplace(std::move(res)); });
    ioc.restart();
    ioc.run();
    BOOST_TEST_REQUIRE(out.has_value());
    BOOST_TEST_REQUIRE(out->has_error());
    BOOST_TEST(out->error().message == "TLS handshake with " + wrong.https_url() +
                                           " failed: certificate verify failed (IP address "
                                           "mismatch)");
}

BOOST_AUTO_TEST_SUITE_END()
