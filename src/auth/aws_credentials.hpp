// The AWS default credential chain and region lookup, in the SDKs' order
// (shared/protocols/aws.md §4): environment keys, web identity, the shared
// config/credentials profile (static keys, credential_process, role_arn with
// source_profile / credential_source / web_identity_token_file), container
// credentials (ECS, EKS Pod Identity), EC2 instance metadata (IMDSv2).
#pragma once

#include "auth/aws_config.hpp"
#include "auth/aws_metadata.hpp"
#include "auth/sigv4.hpp"
#include "env_map.hpp"
#include "error.hpp"
#include "https/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace secrun::auth {

// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN, or the
// legacy AWS_SECURITY_TOKEN; AWS_CREDENTIAL_EXPIRATION). nullopt when
// neither key variable is set; an Error (Errc::config) when only one is.
[[nodiscard]] Result<std::optional<AwsCredentials>> environment_credentials(const EnvMap& env);

// Every variable that holds AWS credentials or points at them, for
// --scrub-credentials.
[[nodiscard]] std::vector<std::string> aws_credential_variables();

// Resolves credentials and the region from one environment. Everything
// passed in must outlive the object and every coroutine it runs; the
// coroutines must not run concurrently (they share the IMDS session).
class AwsCredentialChain {
public:
    AwsCredentialChain(const EnvMap& env, https::Client& http, const AwsSharedConfig& files,
                       ImdsClient& imds, std::function<std::chrono::system_clock::time_point()> now);

    // The first provider that is configured gives the credentials. When a
    // configured provider fails, that error is returned ("AWS credentials:
    // profile 'dev': credential_process exited with status 1"), as the SDKs
    // do, rather than falling through. When none is configured, one error
    // (Errc::auth) names every provider and why it did not apply:
    // "no AWS credentials: environment: AWS_ACCESS_KEY_ID not set; ...".
    // `region` picks the regional STS endpoint ("" for the global one).
    [[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>> resolve(std::string region);

    // AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`; "" when none.
    [[nodiscard]] std::string configured_region() const;

    // configured_region(), else the instance's region from IMDS. Errors
    // (Errc::config) say where a region can be set and why IMDS gave none.
    [[nodiscard]] boost::asio::awaitable<Result<std::string>> resolve_region();

private:
    using Found = Result<std::optional<AwsCredentials>>;

    [[nodiscard]] boost::asio::awaitable<Found> from_web_identity(std::string region);
    [[nodiscard]] boost::asio::awaitable<Found> from_profile(std::string region);
    [[nodiscard]] boost::asio::awaitable<Found> profile_credentials(std::string name,
                                                                    std::vector<std::string> visited,
                                                                    std::string region);
    [[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>>
    role_source(AwsProfile profile, std::vector<std::string> visited, std::string region);
    [[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>>
    web_identity(std::string token_file, std::string role_arn, std::string session_name, std::string region);
    [[nodiscard]] std::string default_session_name() const;

    const EnvMap& env_;
    https::Client& http_;
    const AwsSharedConfig& files_;
    ImdsClient& imds_;
    std::function<std::chrono::system_clock::time_point()> now_;
    std::vector<std::string> skipped_; // "provider: why it did not apply"
};

} // namespace secrun::auth
