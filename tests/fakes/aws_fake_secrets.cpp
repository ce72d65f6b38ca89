// The AWS fake's Secrets Manager: awsJson1_1 on POST / with X-Amz-Target
// secretsmanager.GetSecretValue and secretsmanager.BatchGetSecretValue
// (shared/protocols/aws.md §1.2–1.6). Answers carry x-amzn-RequestId; errors
// are {"__type": CODE, "message": TEXT} with x-amzn-ErrorType, HTTP 400
// (AccessDeniedException uses "Message", as the service does).
//
// Texts of ResourceNotFoundException, InvalidRequestException (deleted) and
// ThrottlingException ("Rate exceeded") are the service's; the texts of the
// validation errors are the fake's own.
#include "aws_fake.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <variant>

namespace secrun::fakes::aws
{
namespace
{

namespace json = boost::json;

constexpr std::string_view json_type = "application/x-amz-json-1.1";
constexpr std::string_view target_prefix = "secretsmanager.";

struct ApiError {
    std::string code;
    std::string message;
    unsigned status = 400;
};

// Where the code is defined, for x-amzn-ErrorType.
std::string_view error_namespace(std::string_view code)
{
    static constexpr std::string_view service_codes[] = {
        "ResourceNotFoundException", "InvalidRequestException", "InvalidParameterException",
        "DecryptionFailure",        "InternalServiceError",    "InvalidNextTokenException"};
    for (const auto known : service_codes)
        if (known == code)
            return "com.amazonaws.secretsmanager";
    return "com.amazon.coral.service";
}

HttpResponse error_response(State& state, Counters& counters, const ApiError& error)
{
    counters.add("aws.error." + error.code);
    HttpResponse r;
    r.status = error.status;
    r.headers.emplace_back("x-amzn-RequestId", state.next_request_id());
    r.headers.emplace_back("x-amzn-ErrorType",
                           error.code + ":http://internal.amazon.com/coral/" + std::string(error_namespace(error.code)) +
                               "/");
    r.headers.emplace_back("Content-Type", std::string(json_type));
    json::object body;
    body["__type"] = error.code;
    body[error.code == "AccessDeniedException" ? "Message" : "message"] = error.message;
    r.body = json::serialize(body);
    return r;
}

HttpResponse ok_response(State& state, const json::object& body)
{
    HttpResponse r;
    r.headers.emplace_back("x-amzn-RequestId", state.next_request_id());
    r.headers.emplace_back("Content-Type", std::string(json_type));
    r.body = json::serialize(body);
    return r;
}

bool names(const std::set<std::string>& list, const std::string& principal)
{
    return list.count("*") > 0 || list.count(principal) > 0;
}

ApiError not_authorized(const Caller& caller, std::string_view action, std::string_view resource)
{
    std::string message = "User: " + caller.principal + " is not authorized to perform: secretsmanager:" +
                          std::string(action);
    if (!resource.empty())
        message += " on resource: " + std::string(resource);
    message += " because no identity-based policy allows the secretsmanager:" + std::string(action) + " action";
    return ApiError{"AccessDeniedException", std::move(message)};
}

// A name, a full ARN or a partial ARN (no "-xxxxxx") of a secret in `region`.
const Secret* find_secret(const State& state, std::string_view id, std::string_view region)
{
    for (const Secret& s : state.secrets) {
        if (s.region != region)
            continue;
        if (id == s.name || id == s.arn)
            return &s;
        const std::string partial = s.arn.substr(0, s.arn.size() - 7);
        if (id == partial)
            return &s;
    }
    return nullptr;
}

const SecretVersion* find_version(const Secret& secret, std::string_view id, std::string_view stage)
{
    for (const SecretVersion& v : secret.versions) {
        if (!id.empty() && v.id != id)
            continue;
        if (!stage.empty() && std::find(v.stages.begin(), v.stages.end(), stage) == v.stages.end())
            continue;
        return &v;
    }
    return nullptr;
}

// The secret and version `id` names for `caller`, or the error the service gives.
const SecretVersion* lookup(const State& state, const Caller& caller, std::string_view id, std::string_view version_id,
                            std::string_view stage, const Secret*& secret, ApiError& error)
{
    secret = find_secret(state, id, caller.region);
    if (!secret) {
        error = {"ResourceNotFoundException", "Secrets Manager can't find the specified secret."};
        return nullptr;
    }
    if (names(secret->deny, caller.principal) || (secret->allow && !names(*secret->allow, caller.principal))) {
        error = not_authorized(caller, "GetSecretValue", secret->arn);
        return nullptr;
    }
    if (secret->deleted) {
        error = {"InvalidRequestException",
                 "You can't perform this operation on the secret because it was marked for deletion."};
        return nullptr;
    }
    const std::string_view wanted_stage = version_id.empty() && stage.empty() ? "AWSCURRENT" : stage;
    const SecretVersion* version = find_version(*secret, version_id, wanted_stage);
    if (!version) {
        error = {"ResourceNotFoundException",
                 version_id.empty()
                     ? "Secrets Manager can't find the specified secret value for staging label: " +
                           std::string(wanted_stage)
                     : "Secrets Manager can't find the specified secret value for VersionId: " +
                           std::string(version_id)};
        return nullptr;
    }
    return version;
}

json::object value_entry(const Secret& secret, const SecretVersion& version)
{
    json::object o;
    o["ARN"] = secret.arn;
    o["Name"] = secret.name;
    o["VersionId"] = version.id;
    if (version.string_value)
        o["SecretString"] = *version.string_value;
    else
        o["SecretBinary"] = *version.binary_base64;
    json::array stages;
    for (const auto& stage : version.stages)
        stages.emplace_back(json::string_view(stage));
    o["VersionStages"] = std::move(stages);
    o["CreatedDate"] = version.created;
    return o;
}

// A string member, or an error naming it (the fake's wording).
std::optional<ApiError> string_member(const json::object& body, std::string_view name, std::string& out,
                                      std::size_t min, std::size_t max, bool required)
{
    const auto* v = body.if_contains(name);
    if (!v) {
        if (required)
            return ApiError{"ValidationException", "1 validation error detected: Value null at '" +
                                                       std::string(name) + "' failed to satisfy constraint: Member "
                                                                           "must not be null"};
        return std::nullopt;
    }
    if (!v->is_string())
        return ApiError{"SerializationException", "Start of structure or map found where not expected."};
    out = std::string(v->get_string());
    if (out.size() < min || out.size() > max)
        return ApiError{"ValidationException", "1 validation error detected: Value at '" + std::string(name) +
                                                   "' failed to satisfy constraint: Member must have length between " +
                                                   std::to_string(min) + " and " + std::to_string(max)};
    return std::nullopt;
}

std::variant<json::object, ApiError> get_secret_value(State& state, const Caller& caller, const json::object& body)
{
    std::string id, version_id, stage;
    if (auto e = string_member(body, "SecretId", id, 1, 2048, true))
        return *e;
    if (auto e = string_member(body, "VersionId", version_id, 32, 64, false))
        return *e;
    if (auto e = string_member(body, "VersionStage", stage, 1, 256, false))
        return *e;
    if (state.deny_actions.count("GetSecretValue") && names(state.deny_actions["GetSecretValue"], caller.principal))
        return not_authorized(caller, "GetSecretValue", id);
    const Secret* secret = nullptr;
    ApiError error;
    const SecretVersion* version = lookup(state, caller, id, version_id, stage, secret, error);
    if (!version)
        return error;
    return value_entry(*secret, *version);
}

std::variant<json::object, ApiError> batch_get_secret_value(State& state, const Caller& caller,
                                                            const json::object& body)
{
    if (body.contains("Filters"))
        return ApiError{"InvalidRequestException",
                        body.contains("SecretIdList")
                            ? "Either SecretIdList or Filters must be specified, but not both."
                            : "Filters are not implemented by the fake; use SecretIdList.",
                        body.contains("SecretIdList") ? 400u : 501u};
    if (body.contains("MaxResults"))
        return ApiError{"InvalidParameterException", "MaxResults may only be used with Filters."};
    const auto* list = body.if_contains("SecretIdList");
    if (!list || !list->is_array() || list->get_array().empty() || list->get_array().size() > 20)
        return ApiError{"ValidationException", "1 validation error detected: Value at 'secretIdList' failed to "
                                               "satisfy constraint: Member must have length between 1 and 20"};
    std::vector<std::string> ids;
    for (const auto& item : list->get_array()) {
        if (!item.is_string() || item.get_string().empty() || item.get_string().size() > 2048)
            return ApiError{"ValidationException", "SecretIdList holds an invalid SecretId."};
        ids.emplace_back(item.get_string());
    }
    if (state.deny_actions.count("BatchGetSecretValue") &&
        names(state.deny_actions["BatchGetSecretValue"], caller.principal))
        return not_authorized(caller, "BatchGetSecretValue", "");

    // NextToken is the decimal offset of the next entry: opaque to clients.
    std::size_t start = 0;
    std::string token;
    if (auto e = string_member(body, "NextToken", token, 1, 4096, false))
        return *e;
    if (!token.empty()) {
        if (token.find_first_not_of("0123456789") != std::string::npos || token.size() > 4 ||
            std::stoul(token) >= ids.size())
            return ApiError{"InvalidNextTokenException", "The NextToken value is invalid."};
        start = std::stoul(token);
    }
    const std::size_t end = std::min(ids.size(), start + state.batch_page_size);
    json::array values;
    json::array errors;
    for (std::size_t i = start; i < end; ++i) {
        const Secret* secret = nullptr;
        ApiError error;
        const SecretVersion* version = lookup(state, caller, ids[i], "", "", secret, error);
        if (version) {
            values.emplace_back(value_entry(*secret, *version));
        } else {
            errors.emplace_back(
                json::object{{"SecretId", ids[i]}, {"ErrorCode", error.code}, {"Message", error.message}});
        }
    }
    json::object out;
    out["SecretValues"] = std::move(values);
    out["Errors"] = std::move(errors);
    if (end < ids.size())
        out["NextToken"] = std::to_string(end);
    return out;
}

} // namespace

HttpResponse secrets_manager(State& state, Counters& counters, const HttpRequest& request)
{
    const auto fail = [&](ApiError error) { return error_response(state, counters, error); };
    const std::string target(request.header("X-Amz-Target").value_or(""));
    if (target.rfind(target_prefix, 0) != 0)
        return fail({"UnknownOperationException", "", 400});
    const std::string operation = target.substr(target_prefix.size());
    if (operation != "GetSecretValue" && operation != "BatchGetSecretValue")
        return fail({"UnknownOperationException", "", 400});

    Caller caller;
    if (auto failure = authenticate(state, request, "secretsmanager", caller))
        return fail({failure->code, failure->message, failure->status});
    if (request.header("Content-Type").value_or("") != json_type)
        return fail({"UnknownOperationException",
                     "Content-Type must be application/x-amz-json-1.1 (fake)", 400});
    counters.add("aws." + operation);

    auto& throttle = state.throttle[operation];
    if (throttle > 0) {
        --throttle;
        return fail({"ThrottlingException", "Rate exceeded", 400});
    }

    boost::system::error_code ec;
    const json::value body = json::parse(request.body, ec);
    if (ec || !body.is_object())
        return fail({"SerializationException", "The request body is not a JSON object (fake)", 400});
    auto result = operation == "GetSecretValue" ? get_secret_value(state, caller, body.get_object())
                                                : batch_get_secret_value(state, caller, body.get_object());
    if (auto* error = std::get_if<ApiError>(&result))
        return fail(*error);
    return ok_response(state, std::get<json::object>(result));
}

} // namespace secrun::fakes::aws
