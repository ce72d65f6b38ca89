#include "exec/environment.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace secrun::exec {
namespace {

bool contains(const std::vector<std::string>& names, std::string_view name)
{
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<Error> check_name(std::string_view name)
{
    if (name.empty() || name.find('=') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos)
        return Error(Errc::value,
                     util::str_cat(util::quoted(name), " is not a valid environment variable name"));
    return std::nullopt;
}

std::optional<Error> check_value(std::string_view name, std::string_view value)
{
    if (value.find('\0') != std::string_view::npos)
        return Error(Errc::value, util::str_cat(name,
                                                ": value contains a NUL byte and cannot be put in "
                                                "the environment (use a 'file' entry)"));
    return std::nullopt;
}

// One variable of the result: where its value comes from.
struct Pick {
    std::string_view name;
    std::string_view value;
};

} // namespace

ExecEnvironment::ExecEnvironment(ExecEnvironment&& other) noexcept
    : entries_(std::move(other.entries_)), pointers_(std::move(other.pointers_))
{
    other.entries_.clear();
    other.pointers_.clear();
}

ExecEnvironment& ExecEnvironment::operator=(ExecEnvironment&& other) noexcept
{
    if (this != &other) {
        clear();
        // Moving the vector moves its buffer: no characters are copied.
        entries_ = std::move(other.entries_);
        pointers_ = std::move(other.pointers_);
        other.entries_.clear();
        other.pointers_.clear();
    }
    return *this;
}

ExecEnvironment::~ExecEnvironment() { clear(); }

std::optional<std::string_view> ExecEnvironment::find(std::string_view name) const
{
    for (const auto& entry : entries_) {
        const std::string_view e(entry);
        if (e.size() > name.size() && e[name.size()] == '=' && e.starts_with(name))
            return e.substr(name.size() + 1);
    }
    return std::nullopt;
}

std::vector<std::string_view> ExecEnvironment::names() const
{
    std::vector<std::string_view> out;
    out.reserve(entries_.size());
    for (const auto& entry : entries_) {
        const std::string_view e(entry);
        out.push_back(e.substr(0, e.find('=')));
    }
    return out;
}

char* const* ExecEnvironment::envp()
{
    pointers_.clear();
    pointers_.reserve(entries_.size() + 1);
    for (auto& entry : entries_)
        pointers_.push_back(entry.data());
    pointers_.push_back(nullptr);
    return pointers_.data();
}

void ExecEnvironment::clear() noexcept
{
    for (auto& entry : entries_)
        cleanse(entry);
    entries_.clear();
    pointers_.clear();
}

Result<ExecEnvironment> build_environment(const EnvMap& inherited,
                                          std::span<const ResolvedVar> resolved,
                                          const EnvPolicy& policy)
{
    // Resolved values by name; a later one replaces an earlier one.
    std::map<std::string_view, std::string_view> values;
    for (const auto& var : resolved)
        values.insert_or_assign(var.name, var.value.reveal());

    // Merge the two sorted sequences into the picks, by the rule in the header.
    std::vector<Pick> picks;
    picks.reserve(inherited.vars().size() + values.size());
    auto keep_inherited = [&](std::string_view name) {
        if (contains(policy.preserve, name))
            return true;
        return !policy.pristine && !contains(policy.scrub, name);
    };
    auto in = inherited.vars().begin();
    const auto in_end = inherited.vars().end();
    auto rv = values.begin();
    while (in != in_end || rv != values.end()) {
        const bool take_inherited =
            rv == values.end() || (in != in_end && std::string_view(in->first) < rv->first);
        if (take_inherited) {
            if (keep_inherited(in->first))
                picks.push_back({in->first, in->second});
            ++in;
            continue;
        }
        const bool same_name = in != in_end && std::string_view(in->first) == rv->first;
        if (same_name && contains(policy.preserve, rv->first))
            picks.push_back({in->first, in->second});
        else
            picks.push_back({rv->first, rv->second});
        if (same_name)
            ++in;
        ++rv;
    }

    for (const auto& pick : picks) {
        if (auto e = check_name(pick.name))
            return *e;
        if (auto e = check_value(pick.name, pick.value))
            return *e;
    }

    // Each string is built in place at its final size, and the vector never
    // reallocates, so no stray copy of a value is left in freed memory.
    ExecEnvironment env;
    env.entries_.reserve(picks.size());
    for (const auto& pick : picks) {
        auto& entry = env.entries_.emplace_back();
        entry.reserve(pick.name.size() + 1 + pick.value.size());
        entry.append(pick.name).append(1, '=').append(pick.value);
    }
    return env;
}

Result<ExecEnvironment> build_environment(const EnvMap& inherited, const SecretMap& resolved,
                                          const EnvPolicy& policy)
{
    std::vector<ResolvedVar> vars;
    vars.reserve(resolved.size());
    for (const auto& [name, value] : resolved)
        vars.push_back({name, value});
    return build_environment(inherited, vars, policy);
}

} // namespace secrun::exec
