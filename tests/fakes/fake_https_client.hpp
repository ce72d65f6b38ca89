// An in-memory https::Client for unit tests: scripted handlers by method and
// URL prefix, and a log of every request received (to assert on signatures,
// headers and how often a secret was fetched).
#pragma once

#include "https/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

namespace secrun::testing {

class FakeHttpsClient final : public https::Client {
public:
    using Handler = std::function<Result<https::Response>(const https::Request&)>;

    // The first route whose method matches and whose "scheme://host:port/target"
    // starts with `url_prefix` answers.
    void on(std::string method, std::string url_prefix, Handler handler)
    {
        routes_.push_back({std::move(method), std::move(url_prefix), std::move(handler)});
    }

    // Convenience: a fixed status and body.
    void on(std::string method, std::string url_prefix, unsigned status, std::string body,
            https::Headers headers = {})
    {
        on(std::move(method), std::move(url_prefix),
           [status, body = std::move(body), headers = std::move(headers)](const https::Request&) {
               https::Response r;
               r.status = status;
               r.body = body;
               r.headers = headers;
               return Result<https::Response>(std::move(r));
           });
    }

    boost::asio::awaitable<Result<https::Response>> send(https::Request request) override
    {
        const std::string full = full_url(request.url);
        requests.push_back(request);
        for (const auto& route : routes_)
            if (route.method == request.method && full.rfind(route.url_prefix, 0) == 0)
                co_return route.handler(request);
        co_return Error(Errc::network, "fake: no route for " + request.method + " " + full);
    }

    static std::string full_url(const https::Url& url)
    {
        return url.scheme + "://" + url.host + ":" + url.port + url.target;
    }

    // Requests whose full URL starts with `prefix`.
    [[nodiscard]] std::size_t count(std::string_view method, std::string_view prefix) const
    {
        std::size_t n = 0;
        for (const auto& r : requests)
            if (r.method == method && full_url(r.url).rfind(prefix, 0) == 0)
                ++n;
        return n;
    }

    std::vector<https::Request> requests;

private:
    struct Route {
        std::string method;
        std::string url_prefix;
        Handler handler;
    };
    std::vector<Route> routes_;
};

} // namespace secrun::testing
