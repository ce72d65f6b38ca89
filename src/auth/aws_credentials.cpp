#include "auth/aws_credentials.hpp"

#include "auth/aws_credential_process.hpp"
#include "auth/aws_sts.hpp"
#include "auth/iso8601.hpp"
#include "util/strings.hpp"

#include <algorithm>

namespace secrun::auth {
namespace {

using util::str_cat;

constexpr std::size_t max_token_file = 64 * 1024;
constexpr std::size_t max_role_chain = 8;

std::string profile_label(std::string_view name) { return str_cat("profile ", util::quoted(name)); }

Error stop(std::string_view provider, Error error)
{
    return with_context(std::move(error), str_cat("AWS credentials: ", provider));
}

// aws_access_key_id + aws_secret_access_key (+ aws_session_token) of one profile.
Result<std::optional<AwsCredentials>> static_keys(const AwsProfile& profile)
{
    const auto key_id = profile.get("aws_access_key_id");
    const auto secret = profile.get("aws_secret_access_key");
    if (!key_id && !secret)
        return std::optional<AwsCredentials>();
    if (!key_id || !secret)
        return Error(Errc::config, key_id ? "aws_access_key_id without aws_secret_access_key"
                                          : "aws_secret_access_key without aws_access_key_id");
    AwsCredentials out;
    out.access_key_id = std::string(*key_id);
    out.secret_access_key = SecretString(*secret);
    if (const auto token = profile.get("aws_session_token"))
        out.session_token = SecretString(*token);
    else if (const auto legacy = profile.get("aws_security_token"))
        out.session_token = SecretString(*legacy);
    out.provider = profile_label(profile.name);
    return std::optional<AwsCredentials>(std::move(out));
}

bool uses_sso(const AwsProfile& profile)
{
    return profile.get("sso_session") || profile.get("sso_start_url") || profile.get("sso_account_id");
}

std::string join(const std::vector<std::string>& parts, std::string_view separator)
{
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty())
            out += separator;
        out += part;
    }
    return out;
}

} // namespace

Result<std::optional<AwsCredentials>> environment_credentials(const EnvMap& env)
{
    const auto key_id = env.get_nonempty("AWS_ACCESS_KEY_ID");
    const auto secret = env.get_nonempty("AWS_SECRET_ACCESS_KEY");
    if (!key_id && !secret)
        return std::optional<AwsCredentials>();
    if (!key_id || !secret)
        return Error(Errc::config, key_id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                                          : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    AwsCredentials out;
    out.access_key_id = std::string(*key_id);
    out.secret_access_key = SecretString(*secret);
    if (const auto token = env.get_nonempty("AWS_SESSION_TOKEN"))
        out.session_token = SecretString(*token);
    else if (const auto legacy = env.get_nonempty("AWS_SECURITY_TOKEN"))
        out.session_token = SecretString(*legacy);
    if (const auto expiration = env.get_nonempty("AWS_CREDENTIAL_EXPIRATION")) {
        out.expiration = parse_iso8601(*expiration);
        if (!out.expiration)
            return Error(Errc::config, "AWS_CREDENTIAL_EXPIRATION is not an ISO-8601 time");
    }
    out.provider = "environment";
    return std::optional<AwsCredentials>(std::move(out));
}

std::vector<std::string> aws_credential_variables()
{
    return {"AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_ROLE_SESSION_NAME",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"};
}

AwsCredentialChain::AwsCredentialChain(const EnvMap& env, https::Client& http, const AwsSharedConfig& files,
                                       ImdsClient& imds,
                                       std::function<std::chrono::system_clock::time_point()> now)
    : env_(env), http_(http), files_(files), imds_(imds), now_(std::move(now))
{
}

boost::asio::awaitable<Result<AwsCredentials>> AwsCredentialChain::resolve(std::string region)
{
    skipped_.clear();

    // 1. Static keys in the environment.
    auto from_env = environment_credentials(env_);
    if (!from_env)
        co_return stop("environment", from_env.error());
    if (*from_env)
        co_return std::move(**from_env);
    skipped_.emplace_back("environment: AWS_ACCESS_KEY_ID not set");

    // 2. Web identity from the environment.
    auto web_task = from_web_identity(region);
    auto web = co_await std::move(web_task);
    if (!web)
        co_return web.error();
    if (*web)
        co_return std::move(**web);

    // 3. The shared config and credentials files.
    auto profile_task = from_profile(region);
    auto profile = co_await std::move(profile_task);
    if (!profile)
        co_return profile.error();
    if (*profile)
        co_return std::move(**profile);

    // 4. Container credentials.
    auto container = container_endpoint(env_);
    if (!container)
        co_return stop("ECS", container.error());
    if (*container) {
        auto task = fetch_container_credentials(http_, std::move(**container));
        auto fetched = co_await std::move(task);
        if (!fetched)
            co_return stop("ECS", fetched.error());
        fetched->provider = "ECS";
        co_return fetched;
    }
    skipped_.emplace_back("ECS: not configured");

    // 5. EC2 instance metadata: the last resort, so its failure joins the list.
    if (imds_.disabled()) {
        skipped_.emplace_back("EC2 IMDS: disabled by AWS_EC2_METADATA_DISABLED");
    } else {
        auto task = imds_.credentials();
        auto fetched = co_await std::move(task);
        if (fetched) {
            fetched->provider = "EC2 IMDS";
            co_return fetched;
        }
        skipped_.push_back(str_cat("EC2 IMDS: ", fetched.error().message));
    }
    co_return Error(Errc::auth, str_cat("no AWS credentials: ", join(skipped_, "; ")));
}

boost::asio::awaitable<AwsCredentialChain::Found> AwsCredentialChain::from_web_identity(std::string region)
{
    const auto token_file = env_.get_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!token_file) {
        skipped_.emplace_back("web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set");
        co_return std::optional<AwsCredentials>();
    }
    const auto role_arn = env_.get_nonempty("AWS_ROLE_ARN");
    if (!role_arn)
        co_return stop("web identity", Error(Errc::config, "AWS_WEB_IDENTITY_TOKEN_FILE is set but "
                                                          "AWS_ROLE_ARN is not"));
    const auto session = env_.get_nonempty("AWS_ROLE_SESSION_NAME");
    std::string session_name = session ? std::string(*session) : default_session_name();
    auto task = web_identity(std::string(*token_file), std::string(*role_arn), std::move(session_name),
                             std::move(region));
    auto fetched = co_await std::move(task);
    if (!fetched)
        co_return stop("web identity", fetched.error());
    fetched->provider = "web identity";
    co_return std::optional<AwsCredentials>(std::move(*fetched));
}

boost::asio::awaitable<Result<AwsCredentials>>
AwsCredentialChain::web_identity(std::string token_file, std::string role_arn, std::string session_name,
                                 std::string region)
{
    auto read = read_file_bounded(token_file, max_token_file);
    if (!read)
        co_return read.error();
    if (!*read)
        co_return Error(Errc::config, str_cat("token file ", token_file, " does not exist"));
    WebIdentityRequest request{std::move(role_arn), std::move(session_name),
                               SecretString(util::trim(**read))};
    cleanse(**read);
    if (request.token.empty())
        co_return Error(Errc::config, str_cat("token file ", token_file, " is empty"));
    auto endpoint = sts_endpoint(env_, region);
    if (!endpoint)
        co_return endpoint.error();
    auto task = assume_role_with_web_identity(http_, std::move(*endpoint), std::move(request));
    co_return co_await std::move(task);
}

boost::asio::awaitable<AwsCredentialChain::Found> AwsCredentialChain::from_profile(std::string region)
{
    const std::string name = files_.profile_name();
    const std::string label = profile_label(name);
    if (!files_.profile(name)) {
        const std::string why = str_cat("no such profile in ", files_.where());
        if (files_.profile_explicit()) // AWS_PROFILE names it: a configuration error
            co_return stop(label, Error(Errc::config, why));
        skipped_.push_back(str_cat(label, ": ", why));
        co_return std::optional<AwsCredentials>();
    }
    auto task = profile_credentials(name, {}, std::move(region));
    auto found = co_await std::move(task);
    if (!found)
        co_return stop(label, found.error());
    if (!*found)
        skipped_.push_back(
            str_cat(label, ": no credentials in it (aws_access_key_id, credential_process or role_arn)"));
    co_return found;
}

boost::asio::awaitable<AwsCredentialChain::Found>
AwsCredentialChain::profile_credentials(std::string name, std::vector<std::string> visited, std::string region)
{
    const auto profile = files_.profile(name);
    if (!profile)
        co_return Error(Errc::config, str_cat("no such profile in ", files_.where()));
    visited.push_back(name);

    if (const auto role_arn = profile->get("role_arn")) {
        if (profile->get("mfa_serial"))
            co_return Error(Errc::config, "mfa_serial needs an interactive MFA code, which secrun cannot ask for");
        const auto session = profile->get("role_session_name");
        const std::string session_name = session ? std::string(*session) : default_session_name();
        if (const auto token_file = profile->get("web_identity_token_file")) {
            auto task = web_identity(std::string(*token_file), std::string(*role_arn), session_name, region);
            auto fetched = co_await std::move(task);
            if (!fetched)
                co_return fetched.error();
            fetched->provider = profile_label(name);
            co_return std::optional<AwsCredentials>(std::move(*fetched));
        }
        auto source_task = role_source(*profile, std::move(visited), region);
        auto source = co_await std::move(source_task);
        if (!source)
            co_return source.error();
        auto endpoint = sts_endpoint(env_, region);
        if (!endpoint)
            co_return endpoint.error();
        AssumeRoleRequest request{std::string(*role_arn), session_name,
                                  std::string(profile->get("external_id").value_or("")),
                                  std::string(profile->get("duration_seconds").value_or(""))};
        auto assume_task =
            assume_role(http_, std::move(*endpoint), std::move(request), std::move(*source), now_());
        auto assumed = co_await std::move(assume_task);
        if (!assumed)
            co_return assumed.error();
        assumed->provider = profile_label(name);
        co_return std::optional<AwsCredentials>(std::move(*assumed));
    }

    auto keys = static_keys(*profile);
    if (!keys || *keys)
        co_return keys;
    if (const auto command = profile->get("credential_process")) {
        auto task = run_credential_process(std::string(*command), env_, now_());
        auto fetched = co_await std::move(task);
        if (!fetched)
            co_return fetched.error();
        fetched->provider = profile_label(name);
        co_return std::optional<AwsCredentials>(std::move(*fetched));
    }
    if (uses_sso(*profile))
        co_return Error(Errc::config,
                        str_cat("IAM Identity Center (sso_*) profiles are not supported; use a profile "
                                "with credential_process = aws configure export-credentials --profile ",
                                name, " --format process"));
    co_return std::optional<AwsCredentials>();
}

boost::asio::awaitable<Result<AwsCredentials>>
AwsCredentialChain::role_source(AwsProfile profile, std::vector<std::string> visited, std::string region)
{
    if (const auto source = profile.get("source_profile")) {
        const std::string source_name(*source);
        const std::string label = str_cat("source_profile ", util::quoted(source_name));
        if (source_name == profile.name) {
            // A profile may hold both the role and the keys that assume it.
            auto keys = static_keys(profile);
            if (!keys)
                co_return keys.error();
            if (!*keys)
                co_return Error(Errc::config, str_cat(label, " names the profile itself, which has no "
                                                             "aws_access_key_id"));
            co_return std::move(**keys);
        }
        if (std::find(visited.begin(), visited.end(), source_name) != visited.end()) {
            visited.push_back(source_name);
            co_return Error(Errc::config, str_cat("source_profile loop: ", join(visited, " -> ")));
        }
        if (visited.size() >= max_role_chain)
            co_return Error(Errc::config, str_cat("more than ", std::to_string(max_role_chain),
                                                  " chained source profiles"));
        auto task = profile_credentials(source_name, std::move(visited), std::move(region));
        auto found = co_await std::move(task);
        if (!found)
            co_return with_context(found.error(), label);
        if (!*found)
            co_return Error(Errc::config, str_cat(label, " has no credentials"));
        co_return std::move(**found);
    }
    if (const auto source = profile.get("credential_source")) {
        if (*source == "Environment") {
            auto keys = environment_credentials(env_);
            if (!keys)
                co_return keys.error();
            if (!*keys)
                co_return Error(Errc::config, "credential_source Environment: AWS_ACCESS_KEY_ID not set");
            co_return std::move(**keys);
        }
        if (*source == "Ec2InstanceMetadata") {
            if (imds_.disabled())
                co_return Error(Errc::config, "credential_source Ec2InstanceMetadata: disabled by "
                                              "AWS_EC2_METADATA_DISABLED");
            auto task = imds_.credentials();
            auto fetched = co_await std::move(task);
            if (!fetched)
                co_return with_context(fetched.error(), "credential_source Ec2InstanceMetadata");
            co_return fetched;
        }
        if (*source == "EcsContainer") {
            auto endpoint = container_endpoint(env_);
            if (!endpoint)
                co_return endpoint.error();
            if (!*endpoint)
                co_return Error(Errc::config, "credential_source EcsContainer: "
                                              "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI not set");
            auto task = fetch_container_credentials(http_, std::move(**endpoint));
            auto fetched = co_await std::move(task);
            if (!fetched)
                co_return with_context(fetched.error(), "credential_source EcsContainer");
            co_return fetched;
        }
        co_return Error(Errc::config, str_cat("unknown credential_source ", util::quoted(*source),
                                              " (Environment, Ec2InstanceMetadata or EcsContainer)"));
    }
    co_return Error(Errc::config, "role_arn needs source_profile, credential_source or web_identity_token_file");
}

std::string AwsCredentialChain::configured_region() const
{
    for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"})
        if (const auto region = env_.get_nonempty(name))
            return std::string(util::trim(*region));
    if (const auto profile = files_.selected())
        if (const auto region = profile->get("region"))
            return std::string(*region);
    return {};
}

boost::asio::awaitable<Result<std::string>> AwsCredentialChain::resolve_region()
{
    std::string region = configured_region();
    if (!region.empty())
        co_return region;
    const std::string hint = str_cat("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in ",
                                     profile_label(files_.profile_name()), ")");
    if (imds_.disabled())
        co_return Error(Errc::config, str_cat(hint, "; EC2 IMDS: disabled by AWS_EC2_METADATA_DISABLED"));
    auto task = imds_.region();
    auto fetched = co_await std::move(task);
    if (!fetched)
        co_return Error(Errc::config, str_cat(hint, "; EC2 IMDS: ", fetched.error().message));
    co_return fetched;
}

std::string AwsCredentialChain::default_session_name() const
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now_().time_since_epoch()).count();
    return str_cat("secrun-", std::to_string(seconds));
}

} // namespace secrun::auth
