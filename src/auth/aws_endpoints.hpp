// Where AWS services live: partitions by region, regional and FIPS hosts,
// and the endpoint overrides the SDKs honour (shared/protocols/aws.md §1.1).
#pragma once

#include "env_map.hpp"
#include "error.hpp"
#include "https/client.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace secrun::auth {

struct AwsPartition {
    std::string_view name;       // "aws", "aws-cn", "aws-us-gov", "aws-iso", ...
    std::string_view dns_suffix; // "amazonaws.com", "amazonaws.com.cn", "c2s.ic.gov", ...
};

// The partition whose region pattern matches; unknown regions are "aws".
[[nodiscard]] AwsPartition partition_for_region(std::string_view region);

// True for a plausible region name (lower-case letters, digits, dashes;
// it becomes part of a host name, so nothing else is accepted).
[[nodiscard]] bool is_valid_region(std::string_view region);

// An SDK boolean setting: "true" in any case.
[[nodiscard]] bool env_flag(const EnvMap& env, std::string_view name);

// A custom endpoint: AWS_ENDPOINT_URL_<SERVICE> (e.g. SECRETS_MANAGER, STS),
// then AWS_ENDPOINT_URL; none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
// `variable` is set to the name of the variable that gave it.
[[nodiscard]] std::optional<std::string_view> configured_endpoint(const EnvMap& env,
                                                                  std::string_view service_env_suffix,
                                                                  std::string* variable = nullptr);

// The endpoint of a regional service: the configured override when there is
// one, else "https://<prefix>[-fips].<region>.<dns suffix>" (FIPS when
// AWS_USE_FIPS_ENDPOINT is true). Errors (Errc::config): an invalid region,
// an unparsable override, FIPS combined with an override.
[[nodiscard]] Result<https::Url> service_endpoint(const EnvMap& env, std::string_view service_env_suffix,
                                                  std::string_view host_prefix, std::string_view region);

} // namespace secrun::auth
