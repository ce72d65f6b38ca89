#include "fake_cloud_scenario.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <limits>

namespace secrun::fakes
{
namespace
{

namespace json = boost::json;

// Error for a bad key: "faults[2].action: expected a string".
std::string at(std::string_view where, std::string_view what)
{
    return std::string(where) + ": " + std::string(what);
}

std::optional<std::string> check_keys(const json::object& object, std::string_view where,
                                      std::initializer_list<std::string_view> allowed)
{
    for (const auto& entry : object) {
        bool known = false;
        for (std::string_view key : allowed)
            known = known || entry.key() == key;
        if (!known)
            return at(where, "unknown key '" + std::string(entry.key()) + "'");
    }
    return std::nullopt;
}

std::optional<std::string> get_string(const json::object& object, std::string_view key,
                                      std::string_view where, std::string& out)
{
    const json::value* v = object.if_contains(key);
    if (!v)
        return std::nullopt;
    if (!v->is_string())
        return at(std::string(where) + "." + std::string(key), "expected a string");
    out = std::string(v->get_string());
    return std::nullopt;
}

template <class Int>
std::optional<std::string> get_int(const json::object& object, std::string_view key,
                                   std::string_view where, long min, long max, Int& out)
{
    const json::value* v = object.if_contains(key);
    if (!v)
        return std::nullopt;
    const std::string name = std::string(where) + "." + std::string(key);
    if (!v->is_int64() && !v->is_uint64())
        return at(name, "expected an integer");
    if (v->is_uint64() && v->get_uint64() > static_cast<std::uint64_t>(max))
        return at(name, "out of range");
    const long value =
        v->is_int64() ? static_cast<long>(v->get_int64()) : static_cast<long>(v->get_uint64());
    if (value < min || value > max)
        return at(name, "out of range");
    out = static_cast<Int>(value);
    return std::nullopt;
}

std::optional<FaultAction> parse_action(std::string_view text)
{
    for (auto action : {FaultAction::status, FaultAction::delay, FaultAction::reset,
                        FaultAction::reset_mid, FaultAction::stall, FaultAction::truncate,
                        FaultAction::oversize, FaultAction::invalid_json})
        if (to_string(action) == text)
            return action;
    return std::nullopt;
}

std::optional<std::string> parse_fault(const json::value& value, std::string_view where,
                                       FaultRule& rule)
{
    if (!value.is_object())
        return at(where, "expected an object");
    const json::object& o = value.get_object();
    if (auto e = check_keys(o, where,
                            {"method", "path", "host", "listener", "count", "delay_ms", "action",
                             "status", "body", "headers", "size"}))
        return e;
    if (auto e = get_string(o, "method", where, rule.method))
        return e;
    if (auto e = get_string(o, "path", where, rule.path))
        return e;
    if (auto e = get_string(o, "host", where, rule.host))
        return e;
    std::string listener;
    if (auto e = get_string(o, "listener", where, listener))
        return e;
    if (listener == "https")
        rule.listener = Listener::https;
    else if (listener == "http")
        rule.listener = Listener::http;
    else if (!listener.empty())
        return at(std::string(where) + ".listener", "expected \"https\" or \"http\"");
    if (auto e = get_int(o, "count", where, -1, std::numeric_limits<int>::max(), rule.remaining))
        return e;
    if (rule.remaining == 0)
        return at(std::string(where) + ".count", "must be positive, or -1 for every request");
    if (auto e = get_int(o, "delay_ms", where, 0, 3'600'000, rule.delay_ms))
        return e;
    if (auto e = get_int(o, "status", where, 100, 599, rule.status))
        return e;
    if (auto e = get_int(o, "size", where, 0, 256L * 1024 * 1024, rule.size))
        return e;

    std::string action;
    if (auto e = get_string(o, "action", where, action))
        return e;
    if (action.empty())
        return at(where, "missing \"action\"");
    const auto parsed = parse_action(action);
    if (!parsed)
        return at(std::string(where) + ".action", "unknown action '" + action + "'");
    rule.action = *parsed;

    if (const json::value* body = o.if_contains("body")) {
        if (body->is_string()) {
            rule.body = std::string(body->get_string());
        } else {
            rule.body = json::serialize(*body);
            rule.headers.emplace_back("Content-Type", "application/json");
        }
    }
    if (const json::value* headers = o.if_contains("headers")) {
        if (!headers->is_object())
            return at(std::string(where) + ".headers", "expected an object");
        for (const auto& h : headers->get_object()) {
            if (!h.value().is_string())
                return at(std::string(where) + ".headers." + std::string(h.key()),
                          "expected a string");
            rule.headers.emplace_back(std::string(h.key()), std::string(h.value().get_string()));
        }
    }
    return std::nullopt;
}

std::optional<std::string> parse_rate_limit(const json::value& value, RateLimit& out)
{
    constexpr std::string_view where = "scenario.rate_limit";
    if (!value.is_object())
        return at(where, "expected an object");
    const json::object& o = value.get_object();
    if (auto e = check_keys(o, where,
                            {"rps", "burst", "vendor", "path", "host", "method", "retry_after"}))
        return e;
    if (!o.contains("rps") || !o.contains("burst") || !o.contains("vendor"))
        return at(where, "\"rps\", \"burst\" and \"vendor\" are required");
    unsigned rps = 0;
    unsigned burst = 0;
    if (auto e = get_int(o, "rps", where, 1, 1'000'000, rps))
        return e;
    if (auto e = get_int(o, "burst", where, 1, 1'000'000, burst))
        return e;
    out.bucket = TokenBucket(rps, burst);
    std::string vendor;
    if (auto e = get_string(o, "vendor", where, vendor))
        return e;
    if (vendor == "aws")
        out.vendor = ThrottleVendor::aws;
    else if (vendor == "azure")
        out.vendor = ThrottleVendor::azure;
    else if (vendor == "doppler")
        out.vendor = ThrottleVendor::doppler;
    else
        return at(std::string(where) + ".vendor", "expected \"aws\", \"azure\" or \"doppler\"");
    if (auto e = get_string(o, "path", where, out.path))
        return e;
    if (auto e = get_string(o, "host", where, out.host))
        return e;
    if (auto e = get_string(o, "method", where, out.method))
        return e;
    if (out.vendor == ThrottleVendor::azure)
        out.retry_after = 1;
    if (o.contains("retry_after")) {
        unsigned seconds = 0;
        if (auto e = get_int(o, "retry_after", where, 0, 86'400, seconds))
            return e;
        out.retry_after = seconds == 0 ? std::nullopt : std::optional<unsigned>(seconds);
    }
    return std::nullopt;
}

// What each service answers when it throttles (shared/protocols/aws.md §3
// and §5.3; azure_doppler.md §1.4 and §4). The Doppler text is the fake's own.
HttpResponse throttle_answer(const RateLimit& limit, unsigned long serial)
{
    HttpResponse r;
    switch (limit.vendor) {
    case ThrottleVendor::aws: {
        char id[40];
        std::snprintf(id, sizeof id, "7a1e0000-0000-4000-8000-%012lx", serial);
        r.status = 400;
        r.headers.emplace_back("x-amzn-RequestId", id);
        r.headers.emplace_back(
            "x-amzn-ErrorType",
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.service/");
        r.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
        r.body = R"({"__type":"ThrottlingException","message":"Rate exceeded"})";
        break;
    }
    case ThrottleVendor::azure:
        r = HttpResponse::json(
            429, json::object{{"error",
                               {{"code", "Throttled"},
                                {"message", "Request was not processed because too many "
                                            "requests were received. Reason: "
                                            "VaultRequestTypeLimitReached"}}}});
        break;
    case ThrottleVendor::doppler:
        r = HttpResponse::json(429, json::object{{"messages", json::array{"Rate limit exceeded"}},
                                                 {"success", false}});
        break;
    }
    if (limit.retry_after)
        r.headers.emplace_back("Retry-After", std::to_string(*limit.retry_after));
    return r;
}

} // namespace

std::optional<HttpResponse> Scenario::throttle(const HttpRequest& request,
                                               TokenBucket::Clock::time_point now)
{
    if (!rate_limit)
        return std::nullopt;
    RateLimit& limit = *rate_limit;
    if (!limit.method.empty() && limit.method != request.method)
        return std::nullopt;
    if (request.path.rfind(limit.path, 0) != 0)
        return std::nullopt;
    if (!limit.host.empty() && limit.host != request.host())
        return std::nullopt;
    if (limit.bucket.admit(now))
        return std::nullopt;
    return throttle_answer(limit, ++throttled_serial);
}

std::string_view to_string(FaultAction action)
{
    switch (action) {
    case FaultAction::status:
        return "status";
    case FaultAction::delay:
        return "delay";
    case FaultAction::reset:
        return "reset";
    case FaultAction::reset_mid:
        return "reset_mid";
    case FaultAction::stall:
        return "stall";
    case FaultAction::truncate:
        return "truncate";
    case FaultAction::oversize:
        return "oversize";
    case FaultAction::invalid_json:
        return "invalid_json";
    }
    return "?";
}

std::optional<FaultRule> Scenario::take_fault(const HttpRequest& request)
{
    for (FaultRule& rule : faults) {
        if (rule.remaining == 0)
            continue;
        if (!rule.method.empty() && rule.method != request.method)
            continue;
        if (request.path.rfind(rule.path, 0) != 0)
            continue;
        if (!rule.host.empty() && rule.host != request.host())
            continue;
        if (rule.listener && *rule.listener != request.listener)
            continue;
        if (rule.remaining > 0)
            --rule.remaining;
        return rule;
    }
    return std::nullopt;
}

std::optional<std::string> parse_scenario(std::string_view text, Scenario& out)
{
    boost::system::error_code ec;
    json::value root = json::parse(text, ec);
    if (ec)
        return "invalid JSON: " + ec.message();
    if (!root.is_object())
        return std::string("expected a JSON object at the top level");
    const json::object& o = root.get_object();
    if (auto e = check_keys(o, "scenario", {"latency_ms", "proxy", "faults", "rate_limit", "vendors"}))
        return e;
    if (auto e = get_int(o, "latency_ms", "scenario", 0, 3'600'000, out.latency_ms))
        return e;
    if (const json::value* proxy = o.if_contains("proxy")) {
        if (!proxy->is_object())
            return std::string("scenario.proxy: expected an object");
        if (auto e = check_keys(proxy->get_object(), "scenario.proxy", {"basic_auth"}))
            return e;
        if (auto e = get_string(proxy->get_object(), "basic_auth", "scenario.proxy",
                                out.proxy_basic_auth))
            return e;
    }
    if (const json::value* faults = o.if_contains("faults")) {
        if (!faults->is_array())
            return std::string("scenario.faults: expected an array");
        std::size_t i = 0;
        for (const json::value& f : faults->get_array()) {
            FaultRule rule;
            if (auto e = parse_fault(f, "scenario.faults[" + std::to_string(i++) + "]", rule))
                return e;
            out.faults.push_back(std::move(rule));
        }
    }
    if (const json::value* limit = o.if_contains("rate_limit")) {
        RateLimit parsed;
        if (auto e = parse_rate_limit(*limit, parsed))
            return e;
        out.rate_limit = std::move(parsed);
    }
    if (const json::value* vendors = o.if_contains("vendors")) {
        if (!vendors->is_object())
            return std::string("scenario.vendors: expected an object");
        out.vendors = vendors->get_object();
    }
    return std::nullopt;
}

} // namespace secrun::fakes
