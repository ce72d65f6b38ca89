#include "backends/aws_secrets_protocol.hpp"

#include "auth/aws_endpoints.hpp"
#include "auth/aws_errors.hpp"
#include "auth/wiped_json.hpp"
#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <array>

namespace secrun::backends::aws {
namespace {

using util::str_cat;

struct CodeClass {
    std::string_view code;
    Errc errc;
    std::string_view what;
};

constexpr std::array<CodeClass, 21> code_classes = {{
    {"ResourceNotFoundException", Errc::not_found, "not found"},
    {"AccessDeniedException", Errc::auth, "access denied"},
    {"AccessDenied", Errc::auth, "access denied"},
    {"NotAuthorized", Errc::auth, "access denied"},
    {"OptInRequired", Errc::auth, "access denied"},
    {"DecryptionFailure", Errc::auth, "cannot be decrypted with its KMS key"},
    {"InvalidRequestException", Errc::config, "invalid request"},
    {"InvalidParameterException", Errc::config, "invalid parameter"},
    {"InvalidNextTokenException", Errc::bad_response, "invalid NextToken"},
    {"ExpiredTokenException", Errc::auth, "the credentials have expired"},
    {"ExpiredToken", Errc::auth, "the credentials have expired"},
    {"RequestExpired", Errc::auth, "the request expired"},
    {"UnrecognizedClientException", Errc::auth, "the credentials are not recognised"},
    {"InvalidClientTokenId", Errc::auth, "the credentials are not recognised"},
    {"InvalidSignatureException", Errc::auth, "the signature was rejected"},
    {"SignatureDoesNotMatch", Errc::auth, "the signature was rejected"},
    {"IncompleteSignature", Errc::auth, "the signature was rejected"},
    {"MissingAuthenticationToken", Errc::auth, "the request was not signed"},
    {"InternalServiceError", Errc::unavailable, "Secrets Manager failed"},
    {"InternalFailure", Errc::unavailable, "Secrets Manager failed"},
    {"ServiceUnavailable", Errc::unavailable, "Secrets Manager is unavailable"},
}};

// A value entry (GetSecretValue answer or a SecretValues element) -> Fetched.
Result<Fetched> fetched_from(std::string_view key, const boost::json::object& entry)
{
    Fetched out;
    if (const auto text = auth::json_string(entry, "SecretString")) {
        out.value = SecretString(*text);
    } else if (const auto binary = auth::json_string(entry, "SecretBinary")) {
        auto bytes = util::base64_decode(*binary);
        if (!bytes)
            return Error(Errc::bad_response,
                         str_cat("secret ", util::quoted(key), ": SecretBinary is not valid base64"));
        out.value = SecretString(std::move(*bytes));
    } else {
        return Error(Errc::bad_response, str_cat("secret ", util::quoted(key),
                                                  ": the answer has neither SecretString nor SecretBinary"));
    }
    out.version = std::string(auth::json_string(entry, "VersionId").value_or(""));
    out.source = std::string(auth::json_string(entry, "ARN").value_or(""));
    return out;
}

} // namespace

bool answers(std::string_view asked, std::string_view arn, std::string_view name)
{
    if (asked == arn || asked == name)
        return true;
    return arn.size() == asked.size() + 7 && arn.substr(0, asked.size()) == asked && arn[asked.size()] == '-';
}

Result<std::optional<SecretArn>> parse_secret_arn(std::string_view key)
{
    if (key.substr(0, 4) != "arn:")
        return std::optional<SecretArn>();
    // arn:partition:secretsmanager:region:account:secret:name (the name has no ':')
    const auto parts = util::split(key, ':');
    if (parts.size() != 7 || parts[1].empty() || parts[2] != "secretsmanager" ||
        !auth::is_valid_region(parts[3]) || parts[4].empty() || parts[5] != "secret" || parts[6].empty())
        return Error(Errc::manifest,
                     str_cat(util::quoted(key), " is not a Secrets Manager secret ARN "
                                                "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)"));
    return std::optional<SecretArn>(
        SecretArn{std::string(parts[1]), std::string(parts[3]), std::string(parts[4]), std::string(parts[6])});
}

Error describe_error(std::string_view code, std::string_view message, unsigned status)
{
    Errc errc = status >= 500 ? Errc::unavailable : Errc::bad_response;
    std::string what = str_cat("Secrets Manager answered HTTP ", std::to_string(status));
    if (auth::is_throttling_code(code)) {
        errc = Errc::unavailable;
        what = "throttled by Secrets Manager";
    } else if (!code.empty()) {
        what = "failed";
        for (const auto& known : code_classes)
            if (known.code == code) {
                errc = known.errc;
                what = std::string(known.what);
            }
    }
    if (!code.empty())
        what += str_cat(" (", code, ")");
    if (!message.empty())
        what += str_cat(": ", message);
    if (code == "InvalidSignatureException" || code == "SignatureDoesNotMatch") {
        const bool skew = message.find("Signature expired") != std::string_view::npos ||
                          message.find("not yet current") != std::string_view::npos;
        what += skew ? "; check the system clock: AWS accepts at most 5 minutes of difference"
                     : "; the secret access key does not belong to the access key id";
    }
    return Error(errc, std::move(what));
}

Error secret_error(std::string_view key, std::string_view code, std::string_view message, unsigned status)
{
    return with_context(describe_error(code, message, status), str_cat("secret ", util::quoted(key)));
}

Error secret_error(std::string_view key, const https::Response& response)
{
    const auth::AwsServiceError error = auth::parse_json_error(response);
    return secret_error(key, error.code, error.message, response.status);
}

Result<Fetched> parse_secret_value(std::string_view key, std::string_view body)
{
    const auto document = auth::parse_json_wiped(body);
    if (!document || !document->is_object())
        return Error(Errc::bad_response, str_cat("secret ", util::quoted(key),
                                                  ": GetSecretValue answered something that is not a JSON object"));
    return fetched_from(key, document->get_object());
}

Result<BatchPage> parse_batch_page(std::string_view body, const std::vector<std::string>& keys)
{
    const auto document = auth::parse_json_wiped(body);
    if (!document || !document->is_object())
        return Error(Errc::bad_response, "BatchGetSecretValue answered something that is not a JSON object");
    const auto& object = document->get_object();
    BatchPage page;
    if (const auto* values = object.if_contains("SecretValues"); values && values->is_array()) {
        for (const auto& entry : values->get_array()) {
            if (!entry.is_object())
                continue;
            const auto arn = auth::json_string(entry.get_object(), "ARN").value_or("");
            const auto name = auth::json_string(entry.get_object(), "Name").value_or("");
            for (const auto& key : keys)
                if (answers(key, arn, name))
                    page.results.emplace_back(key, fetched_from(key, entry.get_object()));
        }
    }
    if (const auto* errors = object.if_contains("Errors"); errors && errors->is_array()) {
        for (const auto& entry : errors->get_array()) {
            if (!entry.is_object())
                continue;
            const auto& e = entry.get_object();
            const auto asked = auth::json_string(e, "SecretId").value_or("");
            if (std::find(keys.begin(), keys.end(), asked) == keys.end())
                continue;
            page.results.emplace_back(
                std::string(asked),
                secret_error(asked, auth::one_line(auth::json_string(e, "ErrorCode").value_or(""), 100),
                             auth::one_line(auth::json_string(e, "Message").value_or("")), 400));
        }
    }
    page.next_token = std::string(auth::json_string(object, "NextToken").value_or(""));
    return page;
}

} // namespace secrun::backends::aws
