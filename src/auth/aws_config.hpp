// The shared AWS config and credentials files (~/.aws/config,
// ~/.aws/credentials): where they are, how their INI text is read, and which
// section is which profile (shared/protocols/aws.md §4.3).
#pragma once

#include "env_map.hpp"
#include "error.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::auth {

// key -> value of one INI section; keys lower-cased, values trimmed.
using IniSection = std::map<std::string, std::string, std::less<>>;
// section name (as written between the brackets, trimmed) -> keys.
using IniFile = std::map<std::string, IniSection, std::less<>>;

// Parses the INI dialect the SDKs read: "[section]", "key = value" (or
// "key: value"), whole-line comments starting with '#' or ';', and indented
// continuation lines (nested sub-properties, kept as "\n"-joined text).
// A later section or key of the same name wins. Errors
// (Errc::config): "FILE:LINE: what is wrong".
[[nodiscard]] Result<IniFile> parse_ini(std::string_view text, std::string_view file_name);

// Reads a whole file of at most `limit` bytes. nullopt when it does not
// exist; "" for /dev/null; an Error (Errc::io / Errc::config) when it cannot
// be read, is not a regular file (a FIFO is refused at once) or is too big.
[[nodiscard]] Result<std::optional<std::string>> read_file_bounded(const std::string& path,
                                                                   std::size_t limit);

// Overwrites every value (the credentials file holds secret keys).
void cleanse_values(IniSection& section) noexcept;

// One profile, with the credentials file's keys over the config file's.
// Its values are wiped when it is destroyed.
struct AwsProfile {
    std::string name;
    IniSection values;

    AwsProfile() = default;
    AwsProfile(const AwsProfile&) = default;
    AwsProfile(AwsProfile&&) noexcept = default;
    AwsProfile& operator=(const AwsProfile&) = default;
    AwsProfile& operator=(AwsProfile&&) noexcept = default;
    ~AwsProfile() { cleanse_values(values); }

    // A key's value when present and not empty.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view key) const;
};

// Both files, read once per run. Values are wiped when it is destroyed.
class AwsSharedConfig {
public:
    AwsSharedConfig() = default;
    AwsSharedConfig(const AwsSharedConfig&) = default;
    AwsSharedConfig(AwsSharedConfig&&) noexcept = default;
    AwsSharedConfig& operator=(const AwsSharedConfig&) = default;
    AwsSharedConfig& operator=(AwsSharedConfig&&) noexcept = default;
    ~AwsSharedConfig();

    // Reads AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (default
    // $HOME/.aws/config and $HOME/.aws/credentials; a leading "~/" is
    // $HOME) and AWS_PROFILE (default "default"). Missing files are fine;
    // unreadable or malformed ones are errors.
    [[nodiscard]] static Result<AwsSharedConfig> load(const EnvMap& env);

    // For tests and callers that have the text already.
    [[nodiscard]] static Result<AwsSharedConfig> from_text(std::string profile, bool profile_explicit,
                                                           std::string config_path,
                                                           std::optional<std::string_view> config_text,
                                                           std::string credentials_path,
                                                           std::optional<std::string_view> credentials_text);

    // The selected profile's name and whether AWS_PROFILE chose it.
    [[nodiscard]] const std::string& profile_name() const noexcept { return profile_; }
    [[nodiscard]] bool profile_explicit() const noexcept { return profile_explicit_; }

    // A profile by name: config "[default]" / "[profile NAME]" (a bare
    // "[NAME]" there is not a profile), credentials "[NAME]". nullopt when
    // neither file has it.
    [[nodiscard]] std::optional<AwsProfile> profile(std::string_view name) const;
    // The selected profile.
    [[nodiscard]] std::optional<AwsProfile> selected() const { return profile(profile_); }

    // "CONFIG, CREDENTIALS" for messages ("(HOME not set)" when no paths).
    [[nodiscard]] std::string where() const;
    [[nodiscard]] const std::string& config_path() const noexcept { return config_path_; }
    [[nodiscard]] const std::string& credentials_path() const noexcept { return credentials_path_; }

private:
    std::string profile_ = "default";
    bool profile_explicit_ = false;
    std::string config_path_;
    std::string credentials_path_;
    IniFile config_;
    IniFile credentials_;
};

// The largest config or credentials file read.
inline constexpr std::size_t max_config_file_size = 1 << 20;

} // namespace secrun::auth
