// The command's environment: inherited variables merged with resolved values (pure).
//
// The rule, in this order (DESIGN §3.4; the README states the same):
//   1. Start from the inherited variables; with `pristine`, from none.
//   2. Drop the `scrub` names (the credentials secrun itself used).
//   3. Add every resolved value; it replaces an inherited variable of the
//      same name.
//   4. A `preserve` name keeps its inherited value, whatever 1-3 say: it
//      survives `pristine` and `scrub`, and a resolved value of that name is
//      dropped. A `preserve` name that is not inherited is set from its
//      resolved value as usual.
// Entries come out sorted by name (byte order), so the result does not depend
// on the order of the inputs.
#pragma once

#include "env_map.hpp"
#include "error.hpp"
#include "secret.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::exec {

struct EnvPolicy {
    bool pristine = false;             // --pristine
    std::vector<std::string> preserve; // --preserve-env
    std::vector<std::string> scrub;    // --scrub-credentials: Backend::credential_variables()
};

/// One resolved variable. `value` must outlive the build_environment call.
struct ResolvedVar {
    std::string_view name;
    const SecretString& value;
};

/// The environment handed to execve: "NAME=value" strings, owned, and wiped
/// (secrun::cleanse) when cleared or destroyed. Move-only.
class ExecEnvironment {
public:
    ExecEnvironment() = default;
    ExecEnvironment(const ExecEnvironment&) = delete;
    ExecEnvironment& operator=(const ExecEnvironment&) = delete;
    ExecEnvironment(ExecEnvironment&& other) noexcept;
    ExecEnvironment& operator=(ExecEnvironment&& other) noexcept;
    ~ExecEnvironment();

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

    /// The value of `name`, or nullopt when it is not set (PATH search, tests).
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const;

    /// Every name, in order.
    [[nodiscard]] std::vector<std::string_view> names() const;

    /// A NULL-terminated array for execve. Valid until this object is
    /// cleared, moved from or destroyed; call it at the last moment.
    [[nodiscard]] char* const* envp();

    /// Wipes every entry now (the --init parent keeps running after fork).
    void clear() noexcept;

private:
    friend Result<ExecEnvironment> build_environment(const EnvMap&, std::span<const ResolvedVar>,
                                                     const EnvPolicy&);

    std::vector<std::string> entries_; // "NAME=value", sorted by name
    std::vector<char*> pointers_;      // filled by envp()
};

/// Builds the environment by the rule above. When the same name is resolved
/// twice the later value wins. Fails with Errc::value, naming the variable
/// and never the value, when a name is empty or holds '=' or a NUL byte, or a
/// value holds a NUL byte (execve would cut it short):
///   "DB_KEY: value contains a NUL byte and cannot be put in the environment (use a 'file' entry)"
///   "'A=B' is not a valid environment variable name"
[[nodiscard]] Result<ExecEnvironment> build_environment(const EnvMap& inherited,
                                                        std::span<const ResolvedVar> resolved,
                                                        const EnvPolicy& policy);

/// The same, from a SecretMap (name -> value).
[[nodiscard]] Result<ExecEnvironment> build_environment(const EnvMap& inherited,
                                                        const SecretMap& resolved,
                                                        const EnvPolicy& policy);

} // namespace secrun::exec
