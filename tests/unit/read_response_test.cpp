#include "https/beast_client.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace secrun;
using https::read_response;

namespace {

constexpr std::string_view origin = "https://api.example.com";

std::string header_value(const https::Response& r, std::string_view name)
{
    return std::string(r.header(name).value_or("<none>"));
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_response_reading)

BOOST_AUTO_TEST_CASE(reads_a_response_with_content_length_in_any_chunking)
{
    const std::string bytes =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"b c\"}";
    for (std::size_t chunk : {0u, 1u, 7u, 4096u}) {
        const auto r = read_response(bytes, 1 << 20, origin, chunk);
        BOOST_TEST_REQUIRE(r.has_value(), "chunk " << chunk);
        BOOST_TEST(r->status == 200u);
        BOOST_TEST(header_value(*r, "content-type") == "application/json");
        BOOST_TEST(r->body == "{\"a\":\"b c\"}");
    }
}

BOOST_AUTO_TEST_CASE(reads_a_chunked_body_and_a_body_ended_by_close)
{
    const auto chunked = read_response(
        "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nRetry-After: 2\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        1 << 20, origin, 5);
    BOOST_TEST_REQUIRE(chunked.has_value());
    BOOST_TEST(chunked->status == 503u);
    BOOST_TEST(chunked->body == "abcde");
    BOOST_TEST(header_value(*chunked, "Retry-After") == "2");

    const auto until_close = read_response("HTTP/1.0 200 OK\r\n\r\nall of it", 1 << 20, origin);
    BOOST_TEST_REQUIRE(until_close.has_value());
    BOOST_TEST(until_close->body == "all of it");
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_is_refused)
{
    const auto r = read_response("HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n" +
                                     std::string(2048, 'x'),
                                 1024, origin);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == Errc::bad_response));
    BOOST_TEST(r.error().message == "response from https://api.example.com is larger than 1 KiB");
}

BOOST_AUTO_TEST_CASE(headers_over_64_kib_are_refused)
{
    const auto r = read_response("HTTP/1.1 200 OK\r\nX-Big: " + std::string(70000, 'a') +
                                     "\r\nContent-Length: 0\r\n\r\n",
                                 1 << 20, origin, 1000);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == Errc::bad_response));
    BOOST_TEST(r.error().message ==
               "response headers from https://api.example.com are larger than 64 KiB");
}

BOOST_AUTO_TEST_CASE(malformed_and_truncated_responses_are_errors)
{
    const auto malformed = read_response("HTTX/1.1 200 OK\r\n\r\n", 1 << 20, origin);
    BOOST_TEST_REQUIRE(malformed.has_error());
    BOOST_TEST((malformed.error().code == Errc::bad_response));
    BOOST_TEST(malformed.error().message ==
               "receive from https://api.example.com failed: malformed response (bad version)");

    const auto truncated =
        read_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1 << 20, origin);
    BOOST_TEST_REQUIRE(truncated.has_error());
    BOOST_TEST((truncated.error().code == Errc::network));
    BOOST_TEST(truncated.error().message ==
               "receive from https://api.example.com failed: the server closed the connection in "
               "the middle of the response");

    const auto nothing = read_response("", 1 << 20, origin);
    BOOST_TEST_REQUIRE(nothing.has_error());
    BOOST_TEST(nothing.error().message ==
               "receive from https://api.example.com failed: the server closed the connection");
}

BOOST_AUTO_TEST_SUITE_END()
