#include "auth/aws_endpoints.hpp"

#include "util/strings.hpp"

#include <array>

namespace secrun::auth {
namespace {

using util::str_cat;

// region == prefix + "-" + word + "-" + digits (the partitions.json regexes).
bool matches(std::string_view region, std::string_view prefix)
{
    if (region.size() <= prefix.size() + 1 || region.substr(0, prefix.size()) != prefix ||
        region[prefix.size()] != '-')
        return false;
    const auto parts = util::split(region.substr(prefix.size() + 1), '-');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty())
        return false;
    for (char c : parts[0])
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    for (char c : parts[1])
        if (c < '0' || c > '9')
            return false;
    return true;
}

struct PartitionRule {
    std::string_view prefix;
    AwsPartition partition;
};

constexpr std::array<PartitionRule, 7> partition_rules = {{
    {"cn", {"aws-cn", "amazonaws.com.cn"}},
    {"us-gov", {"aws-us-gov", "amazonaws.com"}},
    {"us-iso", {"aws-iso", "c2s.ic.gov"}},
    {"us-isob", {"aws-iso-b", "sc2s.sgov.gov"}},
    {"eu-isoe", {"aws-iso-e", "cloud.adc-e.uk"}},
    {"us-isof", {"aws-iso-f", "csp.hci.ic.gov"}},
    {"eusc-de", {"aws-eusc", "amazonaws.eu"}},
}};

} // namespace

AwsPartition partition_for_region(std::string_view region)
{
    for (const auto& rule : partition_rules)
        if (matches(region, rule.prefix))
            return rule.partition;
    return {"aws", "amazonaws.com"};
}

bool is_valid_region(std::string_view region)
{
    if (region.empty() || region.size() > 64 || region.front() == '-' || region.back() == '-')
        return false;
    for (char c : region)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    return true;
}

bool env_flag(const EnvMap& env, std::string_view name)
{
    const auto value = env.get(name);
    return value && util::iequals(util::trim(*value), "true");
}

std::optional<std::string_view> configured_endpoint(const EnvMap& env, std::string_view service_env_suffix,
                                                    std::string* variable)
{
    if (env_flag(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        return std::nullopt;
    for (const std::string& name : {str_cat("AWS_ENDPOINT_URL_", service_env_suffix), std::string("AWS_ENDPOINT_URL")}) {
        if (auto value = env.get_nonempty(name)) {
            if (variable != nullptr)
                *variable = name;
            return value;
        }
    }
    return std::nullopt;
}

Result<https::Url> service_endpoint(const EnvMap& env, std::string_view service_env_suffix,
                                    std::string_view host_prefix, std::string_view region)
{
    const bool fips = env_flag(env, "AWS_USE_FIPS_ENDPOINT");
    std::string variable;
    if (const auto custom = configured_endpoint(env, service_env_suffix, &variable)) {
        if (fips)
            return Error(Errc::config, str_cat("AWS_USE_FIPS_ENDPOINT cannot be combined with ", variable,
                                               " (the custom endpoint is used as is)"));
        auto url = https::Url::parse(*custom);
        if (!url)
            return with_context(url.error(), variable);
        return url;
    }
    if (!is_valid_region(region))
        return Error(Errc::config, str_cat("invalid AWS region ", util::quoted(region)));
    const AwsPartition partition = partition_for_region(region);
    return https::Url::parse(
        str_cat("https://", host_prefix, fips ? "-fips." : ".", region, ".", partition.dns_suffix));
}

} // namespace secrun::auth
