// The AWS fake: Secrets Manager (awsJson1_1) and STS (awsQuery) on the TLS
// port, ECS container credentials and EC2 instance metadata (IMDSv2) on the
// plain-HTTP port, as shared/protocols/aws.md describes the services. Every
// Secrets Manager and signed STS request has its SigV4 signature verified
// (aws_fake_sigv4.cpp).
//
// Scenario section ("vendors": {"aws": ...}); every key is optional:
//   {
//     "account": "111122223333",
//     "region": "us-east-1",          // where secrets live unless they say
//     "clock_offset_seconds": 0,       // the fake's clock is ahead by this much
//     "credentials": {                 // access keys accepted from the start
//       "AKIAEXAMPLE": {"secret": "...",
//                       "session_token": "...",   // then required and signed
//                       "principal": "app"}       // default: the key id
//     },
//     "secrets": {
//       "prod/db": {
//         "region": "eu-west-1", "suffix": "AbCdEf",   // ARN parts (suffix: 6 chars)
//         "string": "{...}" | "binary": "<base64>",     // the AWSCURRENT value, or
//         "versions": [{"id": "...", "stages": ["AWSCURRENT"],
//                       "string": "..." | "binary": "<base64>"}],
//         "deleted": true,                               // InvalidRequestException
//         "allow": ["principal"], "deny": ["principal" | "*"]  // else AccessDeniedException
//       }
//     },
//     "throttle": {"GetSecretValue": 2},       // the next N calls: ThrottlingException
//     "deny_actions": {"BatchGetSecretValue": ["*"]},  // operation -> principals
//     "batch_page_size": 20,                   // BatchGetSecretValue entries per page
//     "sts": {
//       "web_identity": {"<token>": {"role_arn": "...", "subject": "...",
//                                    "issue": {CREDENTIALS}}},
//       "roles": {"<role arn>": {"trusted": ["principal" | "*"], "issue": {CREDENTIALS}}}
//     },
//     "ecs": {"path": "/v2/credentials/x", "authorization": "...",
//             "role_arn": "...", "issue": {CREDENTIALS}},
//     "imds": {"role": "app-role", "region": "us-east-1", "v1_allowed": false,
//              "issue": {CREDENTIALS}}
//   }
// CREDENTIALS = {"access_key": "...", "secret": "...", "session_token": "...",
//                "duration_seconds": 3600}; they are accepted by Secrets
// Manager only once handed out, with the issuing role's ARN as principal.
//
// Counters: aws.GetSecretValue, aws.BatchGetSecretValue (every call that
// reached the operation), aws.sts.<Action>, aws.ecs.credentials,
// aws.imds.token, aws.imds.credentials, aws.credentials_issued (every
// hand-out by STS, ECS or IMDS), aws.error.<Code> (every error answer;
// aws.error.ecs_unauthorized and aws.error.imds_unauthorized for refused
// metadata requests).
#include "aws_fake.hpp"

#include <cctype>
#include <ctime>
#include <memory>

namespace secrun::fakes::aws
{
namespace
{

bool is_json_request(const HttpRequest& request)
{
    const auto type = request.header("Content-Type").value_or("");
    return type.rfind("application/x-www-form-urlencoded", 0) != 0;
}

std::optional<std::string> setup_aws(VendorSetup& setup)
{
    auto state = std::make_shared<State>();
    if (auto error = load_state(setup.section, *state))
        return error;
    Counters& counters = setup.counters; // outlives the routes: both belong to the server

    // Secrets Manager and STS share POST / (both endpoints point at this
    // port); STS is the form-encoded one. "/aws/..." serves endpoint URLs
    // with a path.
    const auto api = [state, &counters](const HttpRequest& request) -> std::optional<HttpResponse> {
        if (request.path != "/" && request.path.rfind("/aws/", 0) != 0)
            return std::nullopt;
        if (is_json_request(request))
            return secrets_manager(*state, counters, request);
        return sts(*state, counters, request);
    };
    setup.routes.add(Listener::https, "POST", "/", api);
    setup.routes.add(Listener::http, "", "/", [state, &counters](const HttpRequest& request) {
        if (auto answer = ecs(*state, counters, request))
            return answer;
        return imds(*state, counters, request);
    });
    return std::nullopt;
}

const VendorRegistration registration{"aws", &setup_aws};

} // namespace

std::string State::next_request_id()
{
    const std::string h = sha256_hex("request-" + std::to_string(++request_counter));
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20, 12);
}

Clock::time_point State::activate(const IssuedCredential& issued, const std::string& principal)
{
    const auto expiry = now() + issued.duration;
    credentials[issued.access_key] = Credential{issued.secret_key, issued.session_token, principal, expiry};
    return expiry;
}

std::string xml_escape(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string amz_date(Clock::time_point t)
{
    const std::time_t seconds = Clock::to_time_t(t);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
    return std::string(buf, n);
}

std::string iso8601(Clock::time_point t)
{
    const std::time_t seconds = Clock::to_time_t(t);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(buf, n);
}

std::optional<Clock::time_point> parse_amz_date(std::string_view text)
{
    if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z')
        return std::nullopt;
    const auto digits = [&](std::size_t at, std::size_t n) -> int {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(text[i])))
                return -1;
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    std::tm utc{};
    utc.tm_year = digits(0, 4) - 1900;
    utc.tm_mon = digits(4, 2) - 1;
    utc.tm_mday = digits(6, 2);
    utc.tm_hour = digits(9, 2);
    utc.tm_min = digits(11, 2);
    utc.tm_sec = digits(13, 2);
    if (utc.tm_year < 70 || utc.tm_mon < 0 || utc.tm_mon > 11 || utc.tm_mday < 1 || utc.tm_mday > 31 ||
        utc.tm_hour < 0 || utc.tm_hour > 23 || utc.tm_min < 0 || utc.tm_min > 59 || utc.tm_sec < 0 ||
        utc.tm_sec > 60)
        return std::nullopt;
    return Clock::from_time_t(::timegm(&utc));
}

} // namespace secrun::fakes::aws
