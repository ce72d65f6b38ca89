// Reading the AWS fake's scenario section (documented in aws_fake.cpp).
// Strict: an unknown key or a wrong type is an error that names it.
#include "aws_fake.hpp"

namespace secrun::fakes::aws
{
namespace
{

namespace json = boost::json;

// "where.key", or "key" at the top of the section.
std::string member(const std::string& where, std::string_view key)
{
    return (where.empty() ? "" : where + ".") + std::string(key);
}

std::optional<std::string> unknown_keys(const json::object& object, std::initializer_list<std::string_view> keys,
                                        const std::string& where)
{
    for (const auto& entry : object) {
        bool known = false;
        for (const auto key : keys)
            known = known || entry.key() == key;
        if (!known)
            return (where.empty() ? "" : where + ": ") + "unknown key '" + std::string(entry.key()) + "'";
    }
    return std::nullopt;
}

std::optional<std::string> get_string(const json::object& object, std::string_view key, std::string& out,
                                      const std::string& where)
{
    const auto* value = object.if_contains(key);
    if (!value)
        return std::nullopt;
    if (!value->is_string())
        return member(where, key) + ": expected a string";
    out = std::string(value->get_string());
    return std::nullopt;
}

std::optional<std::string> get_count(const json::object& object, std::string_view key, std::int64_t& out,
                                     const std::string& where)
{
    const auto* value = object.if_contains(key);
    if (!value)
        return std::nullopt;
    if (!value->is_int64() && !value->is_uint64())
        return member(where, key) + ": expected an integer";
    out = value->is_int64() ? value->get_int64() : static_cast<std::int64_t>(value->get_uint64());
    return std::nullopt;
}

std::optional<std::string> get_names(const json::value& value, std::set<std::string>& out,
                                     const std::string& where)
{
    if (!value.is_array())
        return where + ": expected an array of strings";
    for (const auto& item : value.get_array()) {
        if (!item.is_string())
            return where + ": expected an array of strings";
        out.insert(std::string(item.get_string()));
    }
    return std::nullopt;
}

// Deterministic test data: a version id in UUID form, an ARN suffix.
std::string version_id(const std::string& name, std::size_t index)
{
    const std::string h = sha256_hex(name + "#" + std::to_string(index));
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-8" + h.substr(17, 3) + "-" +
           h.substr(20, 12);
}

std::string arn_suffix(const std::string& name)
{
    static constexpr std::string_view letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const std::string h = sha256_hex(name);
    std::string out;
    for (std::size_t i = 0; i < 6; ++i)
        out += letters[static_cast<std::size_t>(std::stoi(h.substr(2 * i, 2), nullptr, 16)) % letters.size()];
    return out;
}

std::string partition_of(std::string_view region)
{
    if (region.rfind("cn-", 0) == 0)
        return "aws-cn";
    if (region.rfind("us-gov-", 0) == 0)
        return "aws-us-gov";
    return "aws";
}

std::optional<std::string> load_value(const json::object& o, SecretVersion& version, const std::string& where)
{
    std::string text;
    if (auto e = get_string(o, "string", text, where))
        return e;
    if (o.contains("string"))
        version.string_value = text;
    if (auto e = get_string(o, "binary", text, where))
        return e;
    if (o.contains("binary")) {
        if (!base64_decode(text))
            return where + ".binary: not standard base64";
        version.binary_base64 = text;
    }
    if (version.string_value.has_value() == version.binary_base64.has_value())
        return where + ": needs exactly one of \"string\" and \"binary\"";
    return std::nullopt;
}

std::optional<std::string> load_secret(const std::string& name, const json::value& value, State& state)
{
    const std::string where = "secrets." + name;
    if (!value.is_object())
        return where + ": expected an object";
    const json::object& o = value.get_object();
    if (auto e = unknown_keys(o, {"region", "suffix", "string", "binary", "versions", "deleted", "allow", "deny"},
                              where))
        return e;
    Secret secret;
    secret.name = name;
    secret.region = state.region;
    std::string suffix = arn_suffix(name);
    if (auto e = get_string(o, "region", secret.region, where))
        return e;
    if (auto e = get_string(o, "suffix", suffix, where))
        return e;
    if (suffix.size() != 6)
        return where + ".suffix: expected 6 characters";
    secret.arn = "arn:" + partition_of(secret.region) + ":secretsmanager:" + secret.region + ":" + state.account +
                 ":secret:" + name + "-" + suffix;
    const double created = 1.523477145713E9;
    if (o.contains("string") || o.contains("binary")) {
        if (o.contains("versions"))
            return where + ": \"versions\" and a top-level value exclude each other";
        SecretVersion version;
        if (auto e = load_value(o, version, where))
            return e;
        version.id = version_id(name, 0);
        version.stages = {"AWSCURRENT"};
        version.created = created;
        secret.versions.push_back(std::move(version));
    } else if (const auto* versions = o.if_contains("versions")) {
        if (!versions->is_array())
            return where + ".versions: expected an array";
        for (std::size_t i = 0; i < versions->get_array().size(); ++i) {
            const std::string at = where + ".versions[" + std::to_string(i) + "]";
            const auto& item = versions->get_array()[i];
            if (!item.is_object())
                return at + ": expected an object";
            const auto& v = item.get_object();
            if (auto e = unknown_keys(v, {"id", "stages", "string", "binary"}, at))
                return e;
            SecretVersion version;
            version.id = version_id(name, i);
            if (auto e = get_string(v, "id", version.id, at))
                return e;
            if (auto e = load_value(v, version, at))
                return e;
            if (const auto* stages = v.if_contains("stages")) {
                std::set<std::string> names;
                if (auto e = get_names(*stages, names, at + ".stages"))
                    return e;
                version.stages.assign(names.begin(), names.end());
            }
            version.created = created + static_cast<double>(i);
            secret.versions.push_back(std::move(version));
        }
    }
    if (const auto* deleted = o.if_contains("deleted")) {
        if (!deleted->is_bool())
            return where + ".deleted: expected a boolean";
        secret.deleted = deleted->get_bool();
    }
    if (const auto* allow = o.if_contains("allow")) {
        secret.allow.emplace();
        if (auto e = get_names(*allow, *secret.allow, where + ".allow"))
            return e;
    }
    if (const auto* deny = o.if_contains("deny"))
        if (auto e = get_names(*deny, secret.deny, where + ".deny"))
            return e;
    state.secrets.push_back(std::move(secret));
    return std::nullopt;
}

std::optional<std::string> load_issue(const json::object& parent, IssuedCredential& out, const std::string& where)
{
    const auto* value = parent.if_contains("issue");
    if (!value || !value->is_object())
        return where + ".issue: expected an object";
    const json::object& o = value->get_object();
    const std::string at = where + ".issue";
    if (auto e = unknown_keys(o, {"access_key", "secret", "session_token", "duration_seconds"}, at))
        return e;
    std::int64_t duration = 3600;
    if (auto e = get_string(o, "access_key", out.access_key, at))
        return e;
    if (auto e = get_string(o, "secret", out.secret_key, at))
        return e;
    if (auto e = get_string(o, "session_token", out.session_token, at))
        return e;
    if (auto e = get_count(o, "duration_seconds", duration, at))
        return e;
    if (out.access_key.empty() || out.secret_key.empty() || out.session_token.empty())
        return at + ": needs access_key, secret and session_token";
    out.duration = std::chrono::seconds(duration);
    return std::nullopt;
}

std::optional<std::string> load_sts(const json::value& value, State& state)
{
    if (!value.is_object())
        return std::string("sts: expected an object");
    const auto& o = value.get_object();
    if (auto e = unknown_keys(o, {"web_identity", "roles"}, "sts"))
        return e;
    if (const auto* tokens = o.if_contains("web_identity")) {
        if (!tokens->is_object())
            return std::string("sts.web_identity: expected an object");
        for (const auto& entry : tokens->get_object()) {
            const std::string where = "sts.web_identity." + std::string(entry.key());
            if (!entry.value().is_object())
                return where + ": expected an object";
            const auto& t = entry.value().get_object();
            if (auto e = unknown_keys(t, {"role_arn", "subject", "issue"}, where))
                return e;
            WebIdentity identity;
            identity.subject = "system:serviceaccount:default:app";
            if (auto e = get_string(t, "role_arn", identity.role_arn, where))
                return e;
            if (auto e = get_string(t, "subject", identity.subject, where))
                return e;
            if (identity.role_arn.empty())
                return where + ": needs role_arn";
            if (auto e = load_issue(t, identity.issue, where))
                return e;
            state.web_identity_tokens[std::string(entry.key())] = std::move(identity);
        }
    }
    if (const auto* roles = o.if_contains("roles")) {
        if (!roles->is_object())
            return std::string("sts.roles: expected an object");
        for (const auto& entry : roles->get_object()) {
            const std::string where = "sts.roles." + std::string(entry.key());
            if (!entry.value().is_object())
                return where + ": expected an object";
            const auto& r = entry.value().get_object();
            if (auto e = unknown_keys(r, {"trusted", "issue"}, where))
                return e;
            AssumableRole role;
            if (const auto* trusted = r.if_contains("trusted"))
                if (auto e = get_names(*trusted, role.trusted, where + ".trusted"))
                    return e;
            if (auto e = load_issue(r, role.issue, where))
                return e;
            state.roles[std::string(entry.key())] = std::move(role);
        }
    }
    return std::nullopt;
}

std::optional<std::string> load_metadata(const json::object& section, State& state)
{
    if (const auto* value = section.if_contains("ecs")) {
        if (!value->is_object())
            return std::string("ecs: expected an object");
        const auto& o = value->get_object();
        if (auto e = unknown_keys(o, {"path", "authorization", "role_arn", "issue"}, "ecs"))
            return e;
        state.ecs.configured = true;
        state.ecs.path = "/v2/credentials/task";
        state.ecs.role_arn = "arn:aws:iam::" + state.account + ":role/ecs-task";
        if (auto e = get_string(o, "path", state.ecs.path, "ecs"))
            return e;
        if (auto e = get_string(o, "authorization", state.ecs.authorization, "ecs"))
            return e;
        if (auto e = get_string(o, "role_arn", state.ecs.role_arn, "ecs"))
            return e;
        if (auto e = load_issue(o, state.ecs.issue, "ecs"))
            return e;
    }
    if (const auto* value = section.if_contains("imds")) {
        if (!value->is_object())
            return std::string("imds: expected an object");
        const auto& o = value->get_object();
        if (auto e = unknown_keys(o, {"role", "region", "v1_allowed", "issue"}, "imds"))
            return e;
        state.imds.configured = true;
        state.imds.role = "instance-role";
        state.imds.region = state.region;
        if (auto e = get_string(o, "role", state.imds.role, "imds"))
            return e;
        if (auto e = get_string(o, "region", state.imds.region, "imds"))
            return e;
        if (const auto* v1 = o.if_contains("v1_allowed")) {
            if (!v1->is_bool())
                return std::string("imds.v1_allowed: expected a boolean");
            state.imds.v1_allowed = v1->get_bool();
        }
        if (auto e = load_issue(o, state.imds.issue, "imds"))
            return e;
    }
    return std::nullopt;
}

std::optional<std::string> load_credentials(const json::value& value, State& state)
{
    if (!value.is_object())
        return std::string("credentials: expected an object");
    for (const auto& entry : value.get_object()) {
        const std::string where = "credentials." + std::string(entry.key());
        if (!entry.value().is_object())
            return where + ": expected an object";
        const auto& c = entry.value().get_object();
        if (auto e = unknown_keys(c, {"secret", "session_token", "principal"}, where))
            return e;
        Credential credential;
        credential.principal = std::string(entry.key());
        if (auto e = get_string(c, "secret", credential.secret_key, where))
            return e;
        if (auto e = get_string(c, "session_token", credential.session_token, where))
            return e;
        if (auto e = get_string(c, "principal", credential.principal, where))
            return e;
        if (credential.secret_key.empty())
            return where + ": needs a secret";
        state.credentials[std::string(entry.key())] = std::move(credential);
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> load_state(const json::object& section, State& state)
{
    if (auto e = unknown_keys(section,
                              {"account", "region", "clock_offset_seconds", "credentials", "secrets", "throttle",
                               "deny_actions", "batch_page_size", "sts", "ecs", "imds"},
                              ""))
        return e;
    if (auto e = get_string(section, "account", state.account, ""))
        return e;
    if (auto e = get_string(section, "region", state.region, ""))
        return e;
    std::int64_t offset = 0;
    if (auto e = get_count(section, "clock_offset_seconds", offset, ""))
        return e;
    state.clock_offset = std::chrono::seconds(offset);
    std::int64_t page = 20;
    if (auto e = get_count(section, "batch_page_size", page, ""))
        return e;
    if (page < 1 || page > 20)
        return std::string("batch_page_size: expected 1 to 20");
    state.batch_page_size = static_cast<std::size_t>(page);
    if (const auto* credentials = section.if_contains("credentials"))
        if (auto e = load_credentials(*credentials, state))
            return e;
    if (const auto* secrets = section.if_contains("secrets")) {
        if (!secrets->is_object())
            return std::string("secrets: expected an object");
        for (const auto& entry : secrets->get_object())
            if (auto e = load_secret(std::string(entry.key()), entry.value(), state))
                return e;
    }
    if (const auto* throttle = section.if_contains("throttle")) {
        if (!throttle->is_object())
            return std::string("throttle: expected an object");
        for (const auto& entry : throttle->get_object()) {
            std::int64_t n = 0;
            if (auto e = get_count(throttle->get_object(), entry.key(), n, "throttle"))
                return e;
            state.throttle[std::string(entry.key())] = static_cast<unsigned>(n);
        }
    }
    if (const auto* deny = section.if_contains("deny_actions")) {
        if (!deny->is_object())
            return std::string("deny_actions: expected an object");
        for (const auto& entry : deny->get_object())
            if (auto e = get_names(entry.value(), state.deny_actions[std::string(entry.key())],
                                   "deny_actions." + std::string(entry.key())))
                return e;
    }
    if (const auto* sts_section = section.if_contains("sts"))
        if (auto e = load_sts(*sts_section, state))
            return e;
    return load_metadata(section, state);
}

} // namespace secrun::fakes::aws
