// Where the AWS fake hands out credentials (shared/protocols/aws.md §4):
//   * STS on the TLS port (awsQuery: a form POST, an XML answer):
//     AssumeRoleWithWebIdentity (unsigned; the token is checked against the
//     scenario) and AssumeRole (SigV4-signed for service "sts").
//   * ECS container credentials: GET <path> on the plain-HTTP port, with
//     the Authorization value the scenario asks for.
//   * EC2 instance metadata, IMDSv2: PUT /latest/api/token (TTL header
//     required, 1–21600 s), then GETs with X-aws-ec2-metadata-token; a GET
//     without a valid token is 401 unless the scenario allows IMDSv1.
// Credentials become acceptable to Secrets Manager when they are handed out.
//
// The STS error shape (ErrorResponse/Error/{Type,Code,Message}, RequestId)
// and codes are the service's; the exact messages of InvalidIdentityToken
// and of the ECS/IMDS refusals are the fake's own.
#include "aws_fake.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <map>

namespace secrun::fakes::aws
{
namespace
{

namespace json = boost::json;

constexpr std::string_view sts_namespace = "https://sts.amazonaws.com/doc/2011-06-15/";
constexpr std::string_view token_path = "/latest/api/token";
constexpr std::string_view credentials_path = "/latest/meta-data/iam/security-credentials/";

HttpResponse xml(unsigned status, std::string body)
{
    HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "text/xml");
    r.body = std::move(body);
    return r;
}

HttpResponse sts_error(State& state, Counters& counters, unsigned status, std::string_view code,
                       std::string_view message)
{
    counters.add("aws.error." + std::string(code));
    HttpResponse r = xml(status, "<ErrorResponse xmlns=\"" + std::string(sts_namespace) + "\">\n  <Error>\n    <Type>" +
                                     (status >= 500 ? "Receiver" : "Sender") + "</Type>\n    <Code>" +
                                     xml_escape(code) + "</Code>\n    <Message>" + xml_escape(message) +
                                     "</Message>\n  </Error>\n  <RequestId>" + state.next_request_id() +
                                     "</RequestId>\n</ErrorResponse>\n");
    r.headers.emplace_back("x-amzn-RequestId", state.next_request_id());
    return r;
}

// The awsQuery form of an awsJson authentication failure.
HttpResponse sts_auth_error(State& state, Counters& counters, const AuthFailure& failure)
{
    if (failure.code == "InvalidSignatureException")
        return sts_error(state, counters, 403, "SignatureDoesNotMatch", failure.message);
    if (failure.code == "UnrecognizedClientException")
        return sts_error(state, counters, 403, "InvalidClientTokenId", failure.message);
    if (failure.code == "MissingAuthenticationTokenException")
        return sts_error(state, counters, 403, "MissingAuthenticationToken", "Request is missing Authentication Token");
    if (failure.code == "IncompleteSignatureException")
        return sts_error(state, counters, 400, "IncompleteSignature", failure.message);
    if (failure.code == "ExpiredTokenException")
        return sts_error(state, counters, 400, "ExpiredToken", failure.message);
    return sts_error(state, counters, failure.status, failure.code, failure.message);
}

std::map<std::string, std::string> parse_form(std::string_view body)
{
    std::map<std::string, std::string> fields;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty())
            continue;
        const auto eq = pair.find('=');
        fields.emplace(percent_decode(pair.substr(0, eq), true),
                       eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true));
    }
    return fields;
}

bool valid_session_name(std::string_view name)
{
    if (name.size() < 2 || name.size() > 64)
        return false;
    for (const char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("_+=,.@-").find(c) == std::string_view::npos)
            return false;
    return true;
}

std::string role_name(std::string_view role_arn)
{
    const auto slash = role_arn.rfind('/');
    return std::string(slash == std::string_view::npos ? role_arn : role_arn.substr(slash + 1));
}

std::string credentials_xml(const IssuedCredential& issued, Clock::time_point expiry)
{
    return "    <Credentials>\n      <AccessKeyId>" + xml_escape(issued.access_key) +
           "</AccessKeyId>\n      <SecretAccessKey>" + xml_escape(issued.secret_key) +
           "</SecretAccessKey>\n      <SessionToken>" + xml_escape(issued.session_token) +
           "</SessionToken>\n      <Expiration>" + iso8601(expiry) + "</Expiration>\n    </Credentials>\n";
}

HttpResponse sts_success(State& state, std::string_view action, const std::string& inner)
{
    return xml(200, "<" + std::string(action) + "Response xmlns=\"" + std::string(sts_namespace) + "\">\n  <" +
                        std::string(action) + "Result>\n" + inner + "  </" + std::string(action) +
                        "Result>\n  <ResponseMetadata>\n    <RequestId>" + state.next_request_id() +
                        "</RequestId>\n  </ResponseMetadata>\n</" + std::string(action) + "Response>\n");
}

std::string assumed_role_user(State& state, std::string_view role_arn, std::string_view session)
{
    const std::string name = role_name(role_arn);
    return "    <AssumedRoleUser>\n      <Arn>arn:aws:sts::" + state.account + ":assumed-role/" + xml_escape(name) + "/" +
           xml_escape(session) + "</Arn>\n      <AssumedRoleId>AROA" + sha256_hex(role_arn).substr(0, 16) + ":" +
           xml_escape(session) + "</AssumedRoleId>\n    </AssumedRoleUser>\n";
}

HttpResponse assume_role_with_web_identity(State& state, Counters& counters,
                                           const std::map<std::string, std::string>& form)
{
    const auto field = [&](const char* name) {
        const auto it = form.find(name);
        return it == form.end() ? std::string() : it->second;
    };
    const std::string role_arn = field("RoleArn");
    const std::string session = field("RoleSessionName");
    const std::string token = field("WebIdentityToken");
    if (role_arn.size() < 20 || role_arn.size() > 2048)
        return sts_error(state, counters, 400, "ValidationError",
                         "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must "
                         "have length greater than or equal to 20");
    if (!valid_session_name(session))
        return sts_error(state, counters, 400, "ValidationError",
                         "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    if (token.size() < 4 || token.size() > 20000)
        return sts_error(state, counters, 400, "ValidationError",
                         "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: "
                         "Member must have length greater than or equal to 4");
    const auto found = state.web_identity_tokens.find(token);
    if (found == state.web_identity_tokens.end())
        return sts_error(state, counters, 400, "InvalidIdentityToken",
                         "The web identity token is not valid for this identity provider (fake)");
    if (found->second.role_arn != role_arn)
        return sts_error(state, counters, 403, "AccessDenied",
                         "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    const WebIdentity& identity = found->second;
    const auto expiry = state.activate(identity.issue, identity.role_arn);
    counters.add("aws.credentials_issued");
    return sts_success(state, "AssumeRoleWithWebIdentity",
                       credentials_xml(identity.issue, expiry) + "    <SubjectFromWebIdentityToken>" +
                           xml_escape(identity.subject) + "</SubjectFromWebIdentityToken>\n" +
                           assumed_role_user(state, role_arn, session) +
                           "    <Provider>oidc.fake.example</Provider>\n    <Audience>sts.amazonaws.com</Audience>\n");
}

HttpResponse assume_role(State& state, Counters& counters, const HttpRequest& request,
                         const std::map<std::string, std::string>& form)
{
    Caller caller;
    if (auto failure = authenticate(state, request, "sts", caller))
        return sts_auth_error(state, counters, *failure);
    const auto role_it = form.find("RoleArn");
    const auto session_it = form.find("RoleSessionName");
    const std::string session = session_it == form.end() ? "" : session_it->second;
    if (!valid_session_name(session))
        return sts_error(state, counters, 400, "ValidationError",
                         "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    const auto role = role_it == form.end() ? state.roles.end() : state.roles.find(role_it->second);
    if (role == state.roles.end() ||
        (role->second.trusted.count("*") == 0 && role->second.trusted.count(caller.principal) == 0))
        return sts_error(state, counters, 403, "AccessDenied",
                         "User: " + caller.principal + " is not authorized to perform: sts:AssumeRole on resource: " +
                             (role_it == form.end() ? std::string() : role_it->second));
    const auto expiry = state.activate(role->second.issue, role->first);
    counters.add("aws.credentials_issued");
    return sts_success(state, "AssumeRole",
                       credentials_xml(role->second.issue, expiry) + assumed_role_user(state, role->first, session));
}

HttpResponse imds_text(unsigned status, std::string body)
{
    HttpResponse r = HttpResponse::text(status, std::move(body));
    r.headers.front().second = "text/plain";
    return r;
}

} // namespace

HttpResponse sts(State& state, Counters& counters, const HttpRequest& request)
{
    const auto form = parse_form(request.body);
    const auto action = form.find("Action");
    const auto version = form.find("Version");
    if (action == form.end())
        return sts_error(state, counters, 400, "MissingAction", "Missing Action");
    counters.add("aws.sts." + action->second);
    if (version == form.end() || version->second != "2011-06-15")
        return sts_error(state, counters, 400, "InvalidParameterValue",
                         "Could not find operation " + action->second + " for version " +
                             (version == form.end() ? std::string("NO_VERSION_SPECIFIED") : version->second));
    if (action->second == "AssumeRoleWithWebIdentity")
        return assume_role_with_web_identity(state, counters, form);
    if (action->second == "AssumeRole")
        return assume_role(state, counters, request, form);
    return sts_error(state, counters, 400, "InvalidAction",
                     "Could not find operation " + action->second + " for version 2011-06-15");
}

std::optional<HttpResponse> ecs(State& state, Counters& counters, const HttpRequest& request)
{
    if (!state.ecs.configured || request.path != state.ecs.path)
        return std::nullopt;
    if (request.method != "GET")
        return HttpResponse::text(405, "Method Not Allowed");
    if (!state.ecs.authorization.empty() && request.header("Authorization") != state.ecs.authorization) {
        counters.add("aws.error.ecs_unauthorized");
        return HttpResponse::json(401, json::object{{"code", "AccessDeniedException"},
                                                    {"message", "Authorization token is missing or invalid (fake)"}});
    }
    counters.add("aws.ecs.credentials");
    counters.add("aws.credentials_issued");
    const auto expiry = state.activate(state.ecs.issue, state.ecs.role_arn);
    return HttpResponse::json(200, json::object{{"RoleArn", state.ecs.role_arn},
                                                {"AccessKeyId", state.ecs.issue.access_key},
                                                {"SecretAccessKey", state.ecs.issue.secret_key},
                                                {"Token", state.ecs.issue.session_token},
                                                {"Expiration", iso8601(expiry)}});
}

std::optional<HttpResponse> imds(State& state, Counters& counters, const HttpRequest& request)
{
    if (!state.imds.configured || request.path.rfind("/latest/", 0) != 0)
        return std::nullopt;
    const auto now = state.now();
    if (request.path == token_path) {
        if (request.method != "PUT")
            return imds_text(405, "");
        if (request.header("X-Forwarded-For"))
            return imds_text(403, "");
        const std::string ttl(request.header("X-aws-ec2-metadata-token-ttl-seconds").value_or(""));
        if (ttl.empty() || ttl.size() > 5 || ttl.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(ttl) < 1 || std::stoi(ttl) > 21600)
            return imds_text(400, "");
        counters.add("aws.imds.token");
        const std::string token = "AQAEA" + sha256_hex("imds-token-" + std::to_string(state.imds.tokens.size())) + "==";
        state.imds.tokens[token] = now + std::chrono::seconds(std::stoi(ttl));
        HttpResponse r = imds_text(200, token);
        r.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", ttl);
        return r;
    }
    if (request.method != "GET")
        return imds_text(405, "");
    const auto token = request.header("X-aws-ec2-metadata-token");
    if (token) {
        const auto it = state.imds.tokens.find(std::string(*token));
        if (it == state.imds.tokens.end() || it->second <= now) {
            counters.add("aws.error.imds_unauthorized");
            return imds_text(401, "");
        }
    } else if (!state.imds.v1_allowed) {
        counters.add("aws.error.imds_unauthorized");
        return imds_text(401, "");
    }
    if (request.path == credentials_path)
        return imds_text(200, state.imds.role);
    if (request.path == std::string(credentials_path) + state.imds.role) {
        counters.add("aws.imds.credentials");
        counters.add("aws.credentials_issued");
        const std::string role_arn = "arn:aws:iam::" + state.account + ":role/" + state.imds.role;
        const auto expiry = state.activate(state.imds.issue, role_arn);
        json::object body{{"Code", "Success"},
                          {"LastUpdated", iso8601(now)},
                          {"Type", "AWS-HMAC"},
                          {"AccessKeyId", state.imds.issue.access_key},
                          {"SecretAccessKey", state.imds.issue.secret_key},
                          {"Token", state.imds.issue.session_token},
                          {"Expiration", iso8601(expiry)}};
        HttpResponse r = imds_text(200, json::serialize(body));
        return r;
    }
    if (request.path == "/latest/meta-data/placement/region")
        return imds_text(200, state.imds.region);
    return imds_text(404, "");
}

} // namespace secrun::fakes::aws
