#include "backends/aws_secrets_backend.hpp"

#include "auth/aws_config.hpp"
#include "auth/aws_credentials.hpp"
#include "auth/aws_endpoints.hpp"
#include "auth/aws_errors.hpp"
#include "auth/aws_metadata.hpp"
#include "auth/sigv4.hpp"
#include "backends/aws_secrets_protocol.hpp"
#include "log.hpp"
#include "util/strings.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <map>

namespace secrun::backends {
namespace {

namespace json = boost::json;
using util::str_cat;

constexpr std::size_t max_get_response = 1 << 20;   // a 64 KiB value, escaped, plus metadata
constexpr std::size_t max_batch_response = 8 << 20; // 20 of them

bool is_denial(std::string_view code)
{
    return code == "AccessDeniedException" || code == "AccessDenied" || code == "NotAuthorized" ||
           code == "UnknownOperationException";
}

// Batch calls return only AWSCURRENT.
bool batchable(const SecretId& id)
{
    return id.version.empty() && (id.stage.empty() || id.stage == "AWSCURRENT");
}

class AwsSecretsBackend final : public Backend {
public:
    explicit AwsSecretsBackend(Context& context)
        : env_(context.env), http_(context.http), batch_(context.aws_batch), now_(context.now)
    {
        if (!now_)
            now_ = [] { return std::chrono::system_clock::now(); };
    }

    std::string_view name() const noexcept override { return "aws_secrets"; }

    std::optional<std::string> check_key(std::string_view key) const override
    {
        auto arn = aws::parse_secret_arn(key);
        if (!arn)
            return arn.error().message;
        if (key.size() > 2048)
            return str_cat("secret id is longer than 2048 characters");
        return std::nullopt;
    }

    std::vector<std::string> credential_variables() const override { return auth::aws_credential_variables(); }

    boost::asio::awaitable<Result<void>> prepare(std::vector<SecretId> wanted) override;
    boost::asio::awaitable<Result<Fetched>> fetch(SecretId id) override;

private:
    // The region a secret lives in: its ARN's, else the configured one.
    Result<std::string> region_of(std::string_view key) const;
    https::Request make_request(const https::Url& endpoint, std::string_view operation, std::string body) const;
    boost::asio::awaitable<Result<void>> prefetch(std::vector<SecretId> wanted);
    boost::asio::awaitable<Result<bool>> batch_call(std::string region, std::vector<std::string> keys);

    const EnvMap& env_;
    https::Client& http_;
    bool batch_;
    std::function<std::chrono::system_clock::time_point()> now_;

    std::string region_; // configured (or IMDS) region; "" when every secret is a full ARN
    std::optional<auth::AwsCredentials> credentials_;
    std::map<std::string, Result<Fetched>, std::less<>> prefetched_; // by key (AWSCURRENT)
};

Result<std::string> AwsSecretsBackend::region_of(std::string_view key) const
{
    auto arn = aws::parse_secret_arn(key);
    if (!arn)
        return arn.error();
    if (*arn)
        return (*arn)->region;
    return region_;
}

https::Request AwsSecretsBackend::make_request(const https::Url& endpoint, std::string_view operation,
                                               std::string body) const
{
    https::Request request;
    request.method = "POST";
    request.url = endpoint;
    request.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                       {"X-Amz-Target", str_cat("secretsmanager.", operation)}};
    request.body = std::move(body);
    request.body_limit = operation == "BatchGetSecretValue" ? max_batch_response : max_get_response;
    request.retry_if = auth::is_retryable_json_error; // ThrottlingException comes as HTTP 400
    request.allow_http = endpoint.scheme == "http";   // a loopback test endpoint (the client checks)
    request.what = str_cat("Secrets Manager ", operation);
    return request;
}

boost::asio::awaitable<Result<void>> AwsSecretsBackend::prepare(std::vector<SecretId> wanted)
{
    if (wanted.empty())
        co_return Result<void>{};
    auto files = auth::AwsSharedConfig::load(env_);
    if (!files)
        co_return files.error();
    auto imds = auth::ImdsClient::from_env(env_, http_);
    if (!imds)
        co_return imds.error();
    auth::AwsCredentialChain chain(env_, http_, *files, *imds, now_);

    // Only secrets named without an ARN need a configured region.
    bool need_region = false;
    for (const auto& id : wanted) {
        auto arn = aws::parse_secret_arn(id.key);
        if (!arn)
            co_return arn.error();
        need_region = need_region || !arn->has_value();
    }
    if (need_region) {
        auto region_task = chain.resolve_region();
        auto region = co_await std::move(region_task);
        if (!region)
            co_return region.error();
        region_ = std::move(*region);
    } else {
        region_ = chain.configured_region();
    }
    if (!region_.empty() && !auth::is_valid_region(region_))
        co_return Error(Errc::config, str_cat("invalid AWS region ", util::quoted(region_)));

    // One set of credentials for every request of the run.
    auto credentials_task = chain.resolve(region_);
    auto credentials = co_await std::move(credentials_task);
    if (!credentials)
        co_return credentials.error();
    credentials_ = std::move(*credentials);
    log::debug(str_cat("aws_secrets: credentials from ", credentials_->provider,
                       region_.empty() ? "" : str_cat(", region ", region_)));

    if (batch_) {
        auto prefetch_task = prefetch(std::move(wanted));
        co_return co_await std::move(prefetch_task);
    }
    co_return Result<void>{};
}

boost::asio::awaitable<Result<void>> AwsSecretsBackend::prefetch(std::vector<SecretId> wanted)
{
    // Distinct AWSCURRENT keys, grouped by region, 20 to a call.
    std::map<std::string, std::vector<std::string>> by_region;
    for (const auto& id : wanted) {
        if (!batchable(id))
            continue;
        auto region = region_of(id.key);
        if (!region)
            co_return region.error();
        auto& keys = by_region[*region];
        if (std::find(keys.begin(), keys.end(), id.key) == keys.end())
            keys.push_back(id.key);
    }
    for (auto& [region, keys] : by_region) {
        for (std::size_t start = 0; start < keys.size(); start += aws::batch_size) {
            const std::size_t end = std::min(keys.size(), start + aws::batch_size);
            std::vector<std::string> chunk(keys.begin() + static_cast<std::ptrdiff_t>(start),
                                           keys.begin() + static_cast<std::ptrdiff_t>(end));
            auto call_task = batch_call(region, std::move(chunk));
            auto batched = co_await std::move(call_task);
            if (!batched)
                co_return batched.error();
            if (!*batched) // denied: what is not prefetched goes through GetSecretValue
                co_return Result<void>{};
        }
    }
    co_return Result<void>{};
}

// One BatchGetSecretValue call (following NextToken). False when the call
// itself was denied.
boost::asio::awaitable<Result<bool>> AwsSecretsBackend::batch_call(std::string region, std::vector<std::string> keys)
{
    auto endpoint = auth::service_endpoint(env_, "SECRETS_MANAGER", "secretsmanager", region);
    if (!endpoint)
        co_return endpoint.error();
    std::string next_token;
    for (int page = 0; page < 100; ++page) {
        json::object body;
        json::array list;
        for (const auto& key : keys)
            list.emplace_back(json::string_view(key));
        body["SecretIdList"] = std::move(list);
        if (!next_token.empty())
            body["NextToken"] = next_token;
        https::Request request = make_request(*endpoint, "BatchGetSecretValue", json::serialize(body));
        auto signed_request = auth::sigv4::sign(request, *credentials_, {region, "secretsmanager"}, now_());
        if (!signed_request)
            co_return signed_request.error();
        auto send_task = http_.send(std::move(request));
        auto response = co_await std::move(send_task);
        if (!response)
            co_return with_context(response.error(), "BatchGetSecretValue");
        if (response->status != 200) {
            const auth::AwsServiceError error = auth::parse_json_error(*response);
            if (is_denial(error.code)) {
                log::info(str_cat("aws_secrets: BatchGetSecretValue was refused (", error.code,
                                  "); fetching each secret with GetSecretValue"));
                co_return false;
            }
            co_return with_context(aws::describe_error(error.code, error.message, response->status),
                                   "BatchGetSecretValue");
        }
        auto answer = aws::parse_batch_page(response->body, keys);
        if (!answer)
            co_return answer.error();
        for (auto& [key, result] : answer->results)
            prefetched_.insert_or_assign(key, std::move(result));
        next_token = std::move(answer->next_token);
        if (next_token.empty())
            co_return true;
    }
    co_return Error(Errc::bad_response, "BatchGetSecretValue kept answering with a NextToken");
}

boost::asio::awaitable<Result<Fetched>> AwsSecretsBackend::fetch(SecretId id)
{
    if (!credentials_)
        co_return Error(Errc::internal, "aws_secrets: fetch() before a successful prepare()");
    if (batchable(id))
        if (const auto it = prefetched_.find(id.key); it != prefetched_.end())
            co_return it->second;

    auto region = region_of(id.key);
    if (!region)
        co_return region.error();
    auto endpoint = auth::service_endpoint(env_, "SECRETS_MANAGER", "secretsmanager", *region);
    if (!endpoint)
        co_return endpoint.error();

    json::object body;
    body["SecretId"] = id.key;
    if (!id.version.empty())
        body["VersionId"] = id.version;
    if (!id.stage.empty())
        body["VersionStage"] = id.stage;
    https::Request request = make_request(*endpoint, "GetSecretValue", json::serialize(body));
    auto signed_request = auth::sigv4::sign(request, *credentials_, {*region, "secretsmanager"}, now_());
    if (!signed_request)
        co_return signed_request.error();
    auto send_task = http_.send(std::move(request));
    auto response = co_await std::move(send_task);
    if (!response)
        co_return response.error();
    if (response->status != 200)
        co_return aws::secret_error(id.key, *response);
    co_return aws::parse_secret_value(id.key, response->body);
}

} // namespace

std::unique_ptr<Backend> make_aws_secrets_backend(Context& context)
{
    return std::make_unique<AwsSecretsBackend>(context);
}

} // namespace secrun::backends
