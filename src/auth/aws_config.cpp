#include "auth/aws_config.hpp"

#include "secret.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace secrun::auth {
namespace {

using util::str_cat;

bool starts_with_space(std::string_view line) { return !line.empty() && (line.front() == ' ' || line.front() == '\t'); }

// "profile dev" -> "dev"; nullopt for any other section name.
std::optional<std::string_view> config_profile_name(std::string_view section)
{
    constexpr std::string_view prefix = "profile";
    if (section.substr(0, prefix.size()) != prefix || section.size() == prefix.size() ||
        !starts_with_space(section.substr(prefix.size())))
        return std::nullopt;
    return util::trim(section.substr(prefix.size()));
}

void merge(IniSection& into, const IniSection& from)
{
    for (const auto& [key, value] : from)
        into.insert_or_assign(key, value);
}

// "~/x" -> "$HOME/x"; "" when it needs HOME and there is none.
std::string expand_home(std::string_view path, std::optional<std::string_view> home)
{
    if (path.substr(0, 2) != "~/")
        return std::string(path);
    if (!home)
        return {};
    return str_cat(*home, path.substr(1));
}

} // namespace

void cleanse_values(IniSection& section) noexcept
{
    for (auto& entry : section)
        cleanse(entry.second);
}

Result<IniFile> parse_ini(std::string_view text, std::string_view file_name)
{
    IniFile file;
    IniSection* section = nullptr;
    std::string* last_value = nullptr;
    std::size_t line_number = 0;
    const auto bad = [&](std::string_view why) {
        return Error(Errc::config, str_cat(file_name, ":", std::to_string(line_number), ": ", why));
    };

    for (auto raw : util::split(text, '\n')) {
        ++line_number;
        if (!raw.empty() && raw.back() == '\r')
            raw.remove_suffix(1);
        const std::string_view line = util::trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';')
            continue;

        if (line.front() == '[') {
            const auto close = line.find(']');
            if (close == std::string_view::npos)
                return bad("expected ']' to end the section name");
            const std::string_view after = util::trim(line.substr(close + 1));
            if (!after.empty() && after.front() != '#' && after.front() != ';')
                return bad("unexpected text after the section name");
            const std::string_view name = util::trim(line.substr(1, close - 1));
            if (name.empty())
                return bad("empty section name");
            section = &file[std::string(name)];
            last_value = nullptr;
            continue;
        }

        if (starts_with_space(raw) && last_value != nullptr) {
            // A nested sub-property ("s3 =\n  max_concurrent_requests = 20").
            *last_value += str_cat("\n", line);
            continue;
        }
        const auto separator = line.find_first_of("=:");
        if (separator == std::string_view::npos)
            return bad("expected 'key = value'");
        if (section == nullptr)
            return bad("a setting outside any [section]");
        const std::string key = util::to_lower(util::trim(line.substr(0, separator)));
        if (key.empty())
            return bad("empty key before '='");
        auto& slot = (*section)[key];
        cleanse(slot);
        slot = std::string(util::trim(line.substr(separator + 1)));
        last_value = &slot;
    }
    return file;
}

Result<std::optional<std::string>> read_file_bounded(const std::string& path, std::size_t limit)
{
    // O_NONBLOCK: opening a FIFO must not wait for a writer (the check below
    // refuses it); it changes nothing for a regular file.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        const int error = errno;
        if (error == ENOENT || error == ENOTDIR)
            return std::optional<std::string>();
        return Error(Errc::io, str_cat("cannot read ", path, ": ", std::strerror(error)));
    }
    struct stat info {};
    const bool stat_ok = ::fstat(fd, &info) == 0;
    // /dev/null is how users say "no such file" (AWS_CONFIG_FILE=/dev/null); the SDKs read it as empty.
    if (stat_ok && S_ISCHR(info.st_mode) && info.st_rdev == makedev(1, 3)) {
        ::close(fd);
        return std::optional<std::string>(std::string());
    }
    if (!stat_ok || !S_ISREG(info.st_mode)) {
        ::close(fd);
        return Error(Errc::io, str_cat("cannot read ", path, ": not a regular file"));
    }
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            cleanse(text);
            return Error(Errc::io, str_cat("cannot read ", path, ": ", std::strerror(error)));
        }
        if (n == 0)
            break;
        text.append(buffer, static_cast<std::size_t>(n));
        cleanse(buffer, sizeof buffer);
        if (text.size() > limit) {
            ::close(fd);
            cleanse(text);
            return Error(Errc::config,
                         str_cat(path, " is larger than ", std::to_string(limit), " bytes"));
        }
    }
    ::close(fd);
    return std::optional<std::string>(std::move(text));
}

std::optional<std::string_view> AwsProfile::get(std::string_view key) const
{
    const auto it = values.find(key);
    if (it == values.end() || it->second.empty())
        return std::nullopt;
    return std::string_view(it->second);
}

AwsSharedConfig::~AwsSharedConfig()
{
    for (auto& [name, section] : config_)
        cleanse_values(section);
    for (auto& [name, section] : credentials_)
        cleanse_values(section);
}

Result<AwsSharedConfig> AwsSharedConfig::from_text(std::string profile, bool profile_explicit,
                                                   std::string config_path,
                                                   std::optional<std::string_view> config_text,
                                                   std::string credentials_path,
                                                   std::optional<std::string_view> credentials_text)
{
    AwsSharedConfig out;
    out.profile_ = std::move(profile);
    out.profile_explicit_ = profile_explicit;
    out.config_path_ = std::move(config_path);
    out.credentials_path_ = std::move(credentials_path);
    if (config_text) {
        auto parsed = parse_ini(*config_text, out.config_path_);
        if (!parsed)
            return parsed.error();
        out.config_ = std::move(*parsed);
    }
    if (credentials_text) {
        auto parsed = parse_ini(*credentials_text, out.credentials_path_);
        if (!parsed)
            return parsed.error();
        out.credentials_ = std::move(*parsed);
    }
    return out;
}

Result<AwsSharedConfig> AwsSharedConfig::load(const EnvMap& env)
{
    const auto home = env.get_nonempty("HOME");
    const auto pick = [&](std::string_view variable, std::string_view default_suffix) {
        if (auto set = env.get_nonempty(variable))
            return expand_home(*set, home);
        return home ? str_cat(*home, default_suffix) : std::string();
    };
    const std::string config_path = pick("AWS_CONFIG_FILE", "/.aws/config");
    const std::string credentials_path = pick("AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials");

    auto profile = env.get_nonempty("AWS_PROFILE");
    if (!profile)
        profile = env.get_nonempty("AWS_DEFAULT_PROFILE");

    std::optional<std::string> config_text;
    std::optional<std::string> credentials_text;
    if (!config_path.empty()) {
        auto read = read_file_bounded(config_path, max_config_file_size);
        if (!read)
            return read.error();
        config_text = std::move(*read);
    }
    if (!credentials_path.empty()) {
        auto read = read_file_bounded(credentials_path, max_config_file_size);
        if (!read)
            return read.error();
        credentials_text = std::move(*read);
    }
    auto out = from_text(profile ? std::string(*profile) : std::string("default"), profile.has_value(),
                         config_path, config_text, credentials_path, credentials_text);
    if (config_text)
        cleanse(*config_text);
    if (credentials_text)
        cleanse(*credentials_text);
    return out;
}

std::optional<AwsProfile> AwsSharedConfig::profile(std::string_view name) const
{
    AwsProfile out;
    out.name = std::string(name);
    bool found = false;
    // Config file: "[default]" (or "[profile default]"), "[profile NAME]".
    for (const auto& [section, values] : config_) {
        const auto profile_name = config_profile_name(section);
        const bool match = profile_name ? *profile_name == name : (section == name && name == "default");
        if (match) {
            merge(out.values, values);
            found = true;
        }
    }
    // Credentials file: "[NAME]"; its keys win.
    if (const auto it = credentials_.find(name); it != credentials_.end()) {
        merge(out.values, it->second);
        found = true;
    }
    if (!found)
        return std::nullopt;
    return out;
}

std::string AwsSharedConfig::where() const
{
    if (config_path_.empty() && credentials_path_.empty())
        return "(no files: HOME is not set)";
    if (config_path_.empty())
        return credentials_path_;
    if (credentials_path_.empty())
        return config_path_;
    return str_cat(config_path_, ", ", credentials_path_);
}

} // namespace secrun::auth
