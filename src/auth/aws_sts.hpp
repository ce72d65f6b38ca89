// AWS STS for the credential chain: AssumeRoleWithWebIdentity (unsigned;
// EKS IRSA, GitHub Actions OIDC) and AssumeRole (signed; profile role_arn
// chaining). STS speaks awsQuery: a form-encoded POST, an XML answer
// (shared/protocols/aws.md §4.2).
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

// The inner text of the first element <name>...</name> in `xml`, entities
// decoded; nullopt when there is none. Good for the flat, namespace-free
// answers STS gives; not a general XML parser.
[[nodiscard]] std::optional<std::string> xml_text(std::string_view xml, std::string_view name);
// The raw inner XML of the first element <name> (to look inside it).
[[nodiscard]] std::optional<std::string_view> xml_inner(std::string_view xml, std::string_view name);

// Where STS calls go and how they are signed: AWS_ENDPOINT_URL_STS, then
// AWS_ENDPOINT_URL, else https://sts[-fips].<region>.<suffix>, or the global
// https://sts.amazonaws.com (signed for us-east-1) when there is no region.
struct StsEndpoint {
    https::Url url;
    std::string signing_region;
};
[[nodiscard]] Result<StsEndpoint> sts_endpoint(const EnvMap& env, std::string_view region);

struct WebIdentityRequest {
    std::string role_arn;
    std::string session_name;
    SecretString token; // the OIDC token read from the token file
};

// POSTs AssumeRoleWithWebIdentity. Errors: the STS error code and message
// ("STS AssumeRoleWithWebIdentity failed: AccessDenied (HTTP 403): ..."),
// Errc::auth for 4xx, Errc::unavailable for 5xx, client errors as they are.
// `http` must outlive the call (the run's client does).
[[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>>
assume_role_with_web_identity(https::Client& http, StsEndpoint endpoint, WebIdentityRequest request);

struct AssumeRoleRequest {
    std::string role_arn;
    std::string session_name;
    std::string external_id;      // "" when not set
    std::string duration_seconds; // "" when not set
};

// POSTs AssumeRole, signed with `source` at time `now`. Errors as above.
[[nodiscard]] boost::asio::awaitable<Result<AwsCredentials>>
assume_role(https::Client& http, StsEndpoint endpoint, AssumeRoleRequest request, AwsCredentials source,
            std::chrono::system_clock::time_point now);

// Turns an STS answer into credentials (exposed for tests).
[[nodiscard]] Result<AwsCredentials> parse_sts_response(const https::Response& response,
                                                        std::string_view action);

} // namespace secrun::auth
