#include "backends/aws_secrets_protocol.hpp"

#include "auth/aws_endpoints.hpp"
#include "auth/aws_errors.hpp"
#include "util/strings.hpp"

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

} // namespace secrun::backends::aws
