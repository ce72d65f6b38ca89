// Secrets Manager answers: the first byte picks the HTTP status, the rest is
// the body, read as a GetSecretValue answer, a BatchGetSecretValue page and
// an awsJson error. Never crashes; a batch page speaks only of keys asked for.
#include "fuzz_support.hpp"

#include "auth/aws_errors.hpp"
#include "backends/aws_secrets_protocol.hpp"

#include <algorithm>
#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    namespace aws = secrun::backends::aws;
    constexpr std::array<unsigned, 8> statuses = {200, 200, 400, 403, 404, 429, 500, 503};
    if (size == 0)
        return 0;
    const std::string_view body = secrun::fuzz::as_text(data + 1, size - 1);

    (void)aws::parse_secret_value("prod/db", body);

    const std::vector<std::string> keys = {
        "prod/db", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api-AbCdEf",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:partial"};
    if (const auto page = aws::parse_batch_page(body, keys)) {
        for (const auto& [key, result] : page->results)
            require(std::find(keys.begin(), keys.end(), key) != keys.end(),
                    "a batch result is about a key that was asked for");
    }

    secrun::https::Response response;
    response.status = statuses[data[0] % statuses.size()];
    response.body = std::string(body);
    const auto error = secrun::auth::parse_json_error(response);
    require(error.message.find('\n') == std::string::npos, "a service message is one line");
    const auto described = aws::secret_error("prod/db", response);
    require(described.message.rfind("secret 'prod/db': ", 0) == 0, "a secret error names the key");
    (void)secrun::auth::is_retryable_json_error(response);

    const auto first_line = body.substr(0, body.find('\n'));
    (void)aws::parse_secret_arn(first_line);
    return 0;
}
