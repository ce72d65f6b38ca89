#include "env_map.hpp"

namespace secrun {

EnvMap EnvMap::from_environ(const char* const* envp)
{
    EnvMap env;
    for (; envp != nullptr && *envp != nullptr; ++envp) {
        const std::string_view entry(*envp);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0)
            continue; // not a variable; execve would pass it on, we do not
        // The first occurrence wins, as getenv(3) does.
        env.vars_.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return env;
}

std::optional<std::string_view> EnvMap::get(std::string_view name) const
{
    const auto it = vars_.find(name);
    if (it == vars_.end())
        return std::nullopt;
    return std::string_view(it->second);
}

std::optional<std::string_view> EnvMap::get_nonempty(std::string_view name) const
{
    auto value = get(name);
    if (value && value->empty())
        return std::nullopt;
    return value;
}

void EnvMap::erase(std::string_view name)
{
    const auto it = vars_.find(name);
    if (it != vars_.end())
        vars_.erase(it);
}

} // namespace secrun
