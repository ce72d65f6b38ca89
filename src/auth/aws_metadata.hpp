// Credentials from the machine: the container endpoint (ECS task roles, EKS
// Pod Identity) and EC2 instance metadata (IMDSv2), shared/protocols/aws.md
// §4.4–4.5. Both answer plain http on link-local or loopback addresses.
#pragma once

#include "auth/sigv4.hpp"
#include "env_map.hpp"
#include "error.hpp"
#include "https/client.hpp"
#include "secret.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace secrun::auth {

// Credentials from a JSON answer: AccessKeyId, SecretAccessKey, the token
// under `token_key` ("Token" or "SessionToken", optional), Expiration
// (ISO-8601, optional). Errors (Errc::bad_response) start with `what`:
// "credential_process output: no SecretAccessKey".
[[nodiscard]] Result<AwsCredentials> credentials_from_json(std::string_view body, std::string_view token_key,
                                                           std::string_view what);

// --- Container credentials ---------------------------------------------------

struct ContainerEndpoint {
    https::Url url;
    std::string token_file; // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, re-read per fetch
    SecretString token;     // AWS_CONTAINER_AUTHORIZATION_TOKEN (the file wins)
};

// nullopt when neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI
// is set. RELATIVE_URI goes to http://169.254.170.2; a FULL_URI must be
// https, or http to loopback, 169.254.170.2, 169.254.170.23 or
// fd00:ec2::23 (host names other than localhost are refused: their
// addresses cannot be checked here). Errors are Errc::config.
[[nodiscard]] Result<std::optional<ContainerEndpoint>> container_endpoint(const EnvMap& env);

// GETs the credentials (Authorization: the token, raw; Accept: JSON).
// `http` must outlive the call.
[[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>>
fetch_container_credentials(https::Client& http, ContainerEndpoint endpoint);

// --- EC2 instance metadata ---------------------------------------------------

// An IMDSv2 session: one token (PUT /latest/api/token), then GETs with it.
// Falls back to IMDSv1 (no token) when the PUT is refused with 403/404/405
// or times out, unless AWS_EC2_METADATA_V1_DISABLED is true. Requests are
// short (1 s) so that a machine without IMDS fails fast. The client passed
// in must outlive the object; one coroutine at a time may use it.
class ImdsClient {
public:
    // Reads AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT,
    // AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE (IPv4 / IPv6) and
    // AWS_EC2_METADATA_V1_DISABLED. Errors (Errc::config): a bad endpoint or mode.
    [[nodiscard]] static Result<ImdsClient> from_env(const EnvMap& env, https::Client& http);

    [[nodiscard]] bool disabled() const noexcept { return disabled_; }
    // "http://169.254.169.254" (for messages).
    [[nodiscard]] std::string origin() const { return base_.origin(); }

    // GET <path> with the session token: the body of a 200, else an error
    // naming the path and status ("GET /latest/meta-data/... returned HTTP 404").
    [[nodiscard]] boost::asio::awaitable<Result<std::string>> get(std::string path);

    // The instance role's credentials (role name, then its document).
    [[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>> credentials();

    // The instance's region (/latest/meta-data/placement/region).
    [[nodiscard]] boost::asio::awaitable<Result<std::string>> region();

private:
    ImdsClient(https::Client& http) : http_(&http) {}
    [[nodiscard]] boost::asio::awaitable<Result<void>> ensure_token();
    [[nodiscard]] https::Request request(std::string method, std::string_view path) const;

    https::Client* http_;
    https::Url base_;
    bool disabled_ = false;
    bool v1_allowed_ = true;
    bool have_token_ = false; // a token was obtained, or v1 was chosen (empty token_)
    SecretString token_;
};

// Per-request limits for metadata endpoints.
inline constexpr std::chrono::milliseconds imds_timeout{1000};
inline constexpr std::chrono::milliseconds container_timeout{2000};

} // namespace secrun::auth
