// A snapshot of an environment, passed to code instead of read globally, so
// that tests build their environment from nothing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace secrun {

class EnvMap {
public:
    using Map = std::map<std::string, std::string, std::less<>>;

    EnvMap() = default;
    explicit EnvMap(Map vars) : vars_(std::move(vars)) {}

    // Reads a NULL-terminated environ-style array ("NAME=value" strings).
    [[nodiscard]] static EnvMap from_environ(const char* const* envp);

    // The value, or nullopt when unset. An empty value counts as set.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
    // The value when set and not empty (the SDKs treat "" as unset for most settings).
    [[nodiscard]] std::optional<std::string_view> get_nonempty(std::string_view name) const;
    [[nodiscard]] bool contains(std::string_view name) const { return vars_.find(name) != vars_.end(); }

    void set(std::string name, std::string value) { vars_.insert_or_assign(std::move(name), std::move(value)); }
    void erase(std::string_view name);

    [[nodiscard]] const Map& vars() const noexcept { return vars_; }

private:
    Map vars_;
};

} // namespace secrun
