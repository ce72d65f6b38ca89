#include "auth/aws_sts.hpp"

#include "auth/aws_endpoints.hpp"
#include "auth/aws_errors.hpp"
#include "auth/iso8601.hpp"
#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <charconv>

namespace secrun::auth {
namespace {

using util::str_cat;

constexpr std::size_t max_sts_response = 64 * 1024;
constexpr auto sts_timeout = std::chrono::milliseconds(5000);
constexpr int sts_attempts = 3;

// Position just after "<name" when it opens an element of exactly that name.
std::size_t find_open_tag(std::string_view xml, std::string_view name, std::size_t from)
{
    for (;;) {
        const auto at = xml.find(str_cat("<", name), from);
        if (at == std::string_view::npos)
            return std::string_view::npos;
        const std::size_t end = at + 1 + name.size();
        if (end < xml.size() && (xml[end] == '>' || xml[end] == ' ' || xml[end] == '\t' ||
                                 xml[end] == '\r' || xml[end] == '\n' || xml[end] == '/'))
            return end;
        from = end;
    }
}

// Decodes the five predefined entities and numeric character references.
std::optional<std::string> decode_entities(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out += text[i];
            continue;
        }
        const auto semicolon = text.find(';', i);
        if (semicolon == std::string_view::npos || semicolon - i > 10)
            return std::nullopt;
        const std::string_view entity = text.substr(i + 1, semicolon - i - 1);
        if (entity == "amp")
            out += '&';
        else if (entity == "lt")
            out += '<';
        else if (entity == "gt")
            out += '>';
        else if (entity == "quot")
            out += '"';
        else if (entity == "apos")
            out += '\'';
        else if (entity.size() > 1 && entity[0] == '#') {
            const bool hex = entity[1] == 'x' || entity[1] == 'X';
            const std::string_view digits = entity.substr(hex ? 2 : 1);
            unsigned code = 0;
            const auto [end, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
            if (ec != std::errc{} || end != digits.data() + digits.size() || code == 0 || code > 0x10FFFF)
                return std::nullopt;
            // UTF-8 encoding of the code point.
            if (code < 0x80) {
                out += static_cast<char>(code);
            } else if (code < 0x800) {
                out += static_cast<char>(0xC0 | (code >> 6));
                out += static_cast<char>(0x80 | (code & 0x3F));
            } else if (code < 0x10000) {
                out += static_cast<char>(0xE0 | (code >> 12));
                out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (code & 0x3F));
            } else {
                out += static_cast<char>(0xF0 | (code >> 18));
                out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
                out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (code & 0x3F));
            }
        } else {
            return std::nullopt;
        }
        i = semicolon;
    }
    return out;
}

std::string form_field(std::string_view name, std::string_view value)
{
    return str_cat("&", name, "=", util::percent_encode(value));
}

// STS codes worth another attempt, besides throttling (botocore retries
// IDPCommunicationError; the identity provider was briefly unreachable).
bool is_retryable_sts_error(const https::Response& response)
{
    if (response.status < 400 || response.status >= 500)
        return false;
    const auto error = xml_inner(response.body, "Error");
    const auto code = error ? xml_text(*error, "Code") : std::nullopt;
    return code && (*code == "IDPCommunicationError" || is_throttling_code(*code));
}

https::Request sts_request(const StsEndpoint& endpoint, std::string body, std::string what)
{
    https::Request request;
    request.method = "POST";
    request.url = endpoint.url;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                       {"Accept", "application/xml"}};
    request.body = std::move(body);
    request.timeout = sts_timeout;
    request.max_attempts = sts_attempts;
    request.body_limit = max_sts_response;
    request.retry_if = is_retryable_sts_error;
    request.what = std::move(what);
    request.allow_http = endpoint.url.scheme == "http"; // a loopback test endpoint (the client checks)
    return request;
}

} // namespace

std::optional<std::string_view> xml_inner(std::string_view xml, std::string_view name)
{
    const std::size_t after_name = find_open_tag(xml, name, 0);
    if (after_name == std::string_view::npos)
        return std::nullopt;
    const auto open_end = xml.find('>', after_name);
    if (open_end == std::string_view::npos)
        return std::nullopt;
    if (xml[open_end - 1] == '/')
        return std::string_view{}; // <name/>
    const auto close = xml.find(str_cat("</", name, ">"), open_end + 1);
    if (close == std::string_view::npos)
        return std::nullopt;
    return xml.substr(open_end + 1, close - open_end - 1);
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view name)
{
    const auto inner = xml_inner(xml, name);
    if (!inner)
        return std::nullopt;
    return decode_entities(util::trim(*inner));
}

Result<StsEndpoint> sts_endpoint(const EnvMap& env, std::string_view region)
{
    const bool custom = configured_endpoint(env, "STS").has_value();
    if (region.empty() && !custom) {
        auto url = https::Url::parse("https://sts.amazonaws.com");
        return StsEndpoint{std::move(*url), "us-east-1"};
    }
    auto url = service_endpoint(env, "STS", "sts", region);
    if (!url)
        return url.error();
    return StsEndpoint{std::move(*url), region.empty() ? std::string("us-east-1") : std::string(region)};
}

Result<AwsCredentials> parse_sts_response(const https::Response& response, std::string_view action)
{
    if (response.status != 200) {
        const auto error = xml_inner(response.body, "Error");
        const std::string code = error ? one_line(xml_text(*error, "Code").value_or(""), 100) : "";
        const std::string message = error ? one_line(xml_text(*error, "Message").value_or("")) : "";
        std::string text = str_cat("STS ", action, " failed: ");
        if (!code.empty())
            text += str_cat(code, " ");
        text += str_cat("(HTTP ", std::to_string(response.status), ")");
        if (!message.empty())
            text += str_cat(": ", message);
        return Error(response.status >= 500 ? Errc::unavailable : Errc::auth, std::move(text));
    }
    const auto bad = [&](std::string_view why) {
        return Error(Errc::bad_response, str_cat("STS ", action, " answered ", why));
    };
    const auto result = xml_inner(response.body, str_cat(action, "Result"));
    const auto credentials = result ? xml_inner(*result, "Credentials") : std::nullopt;
    if (!credentials)
        return bad("without Credentials");
    AwsCredentials out;
    auto key_id = xml_text(*credentials, "AccessKeyId");
    auto secret = xml_text(*credentials, "SecretAccessKey");
    auto token = xml_text(*credentials, "SessionToken");
    if (!key_id || key_id->empty() || !secret || secret->empty() || !token || token->empty())
        return bad("without AccessKeyId, SecretAccessKey or SessionToken");
    out.access_key_id = std::move(*key_id);
    out.secret_access_key = SecretString(std::move(*secret));
    out.session_token = SecretString(std::move(*token));
    if (const auto expiration = xml_text(*credentials, "Expiration")) {
        out.expiration = parse_iso8601(*expiration);
        if (!out.expiration)
            return bad("with an unreadable Expiration");
    }
    return out;
}

boost::asio::awaitable<Result<AwsCredentials>>
assume_role_with_web_identity(https::Client& http, StsEndpoint endpoint, WebIdentityRequest request)
{
    std::string body = str_cat("Action=AssumeRoleWithWebIdentity&Version=2011-06-15",
                               form_field("RoleArn", request.role_arn),
                               form_field("RoleSessionName", request.session_name),
                               form_field("WebIdentityToken", request.token.reveal()));
    // The operation is unsigned: the web identity token is the proof.
    https::Request http_request =
        sts_request(endpoint, std::move(body), "STS AssumeRoleWithWebIdentity");
    auto task = http.send(std::move(http_request));
    auto response = co_await std::move(task);
    if (!response)
        co_return response.error();
    co_return parse_sts_response(*response, "AssumeRoleWithWebIdentity");
}

boost::asio::awaitable<Result<AwsCredentials>>
assume_role(https::Client& http, StsEndpoint endpoint, AssumeRoleRequest request, AwsCredentials source,
            std::chrono::system_clock::time_point now)
{
    std::string body = str_cat("Action=AssumeRole&Version=2011-06-15", form_field("RoleArn", request.role_arn),
                               form_field("RoleSessionName", request.session_name));
    if (!request.external_id.empty())
        body += form_field("ExternalId", request.external_id);
    if (!request.duration_seconds.empty())
        body += form_field("DurationSeconds", request.duration_seconds);
    https::Request http_request = sts_request(endpoint, std::move(body), "STS AssumeRole");
    auto signed_request =
        sigv4::sign(http_request, source, sigv4::Scope{endpoint.signing_region, "sts"}, now);
    if (!signed_request)
        co_return signed_request.error();
    auto task = http.send(std::move(http_request));
    auto response = co_await std::move(task);
    if (!response)
        co_return response.error();
    co_return parse_sts_response(*response, "AssumeRole");
}

} // namespace secrun::auth
