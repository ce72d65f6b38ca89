#include "auth/aws_errors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>

namespace secrun::auth {
namespace {

constexpr std::array<std::string_view, 14> throttling_codes = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException"};

constexpr std::array<std::string_view, 3> transient_codes = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"};

// "aws.protocoltests#FooError:http://internal" -> "FooError".
std::string sanitize_code(std::string_view code)
{
    code = code.substr(0, code.find(':'));
    if (const auto hash = code.rfind('#'); hash != std::string_view::npos)
        code = code.substr(hash + 1);
    return one_line(code, 100);
}

std::string_view string_member(const boost::json::object& object, std::string_view key)
{
    const auto* value = object.if_contains(key);
    if (value == nullptr || !value->is_string())
        return {};
    return value->get_string();
}

} // namespace

AwsServiceError parse_json_error(const https::Response& response)
{
    AwsServiceError error;
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(response.body, ec);
    if (!ec && body.is_object()) {
        const auto& object = body.get_object();
        std::string_view code = string_member(object, "__type");
        if (code.empty())
            code = string_member(object, "code");
        error.code = sanitize_code(code);
        std::string_view message = string_member(object, "message");
        if (message.empty())
            message = string_member(object, "Message");
        error.message = one_line(message);
    } else {
        error.message = one_line(response.body);
    }
    if (const auto header = response.header("X-Amzn-Errortype"); header && !header->empty())
        error.code = sanitize_code(*header);
    return error;
}

bool is_throttling_code(std::string_view code) noexcept
{
    return std::find(throttling_codes.begin(), throttling_codes.end(), code) != throttling_codes.end();
}

bool is_transient_code(std::string_view code) noexcept
{
    return std::find(transient_codes.begin(), transient_codes.end(), code) != transient_codes.end();
}

bool is_retryable_json_error(const https::Response& response)
{
    if (response.status < 400 || response.status >= 500)
        return false;
    const AwsServiceError error = parse_json_error(response);
    return is_throttling_code(error.code) || is_transient_code(error.code);
}

std::string one_line(std::string_view text, std::size_t limit)
{
    std::string out;
    out.reserve(std::min(text.size(), limit + 3));
    for (char c : text) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

} // namespace secrun::auth
