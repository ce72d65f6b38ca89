#include "backends/env_backend.hpp"

#include "config/dotenv.hpp"
#include "log.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace secrun::backends {
namespace {

using util::str_cat;

constexpr std::size_t max_dotenv_size = 1 << 20;

struct Fd {
    int fd = -1;
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

class EnvBackend final : public Backend {
public:
    explicit EnvBackend(Context& context) : context_(context) {}

    std::string_view name() const noexcept override { return "env"; }

    boost::asio::awaitable<Result<void>> prepare(std::vector<SecretId> wanted) override
    {
        for (const auto& id : wanted)
            if (!id.version.empty() || !id.stage.empty())
                co_return Error(Errc::manifest,
                                str_cat("the env backend has no versions (key ", util::quoted(id.key), ")"));
        co_return load();
    }

    boost::asio::awaitable<Result<Fetched>> fetch(SecretId id) override
    {
        if (auto loaded = load(); !loaded)
            co_return loaded.error();
        if (auto v = context_.env.get(id.key))
            co_return Fetched{SecretString(*v), {}, "environment"};
        // Later files win: search from the last.
        for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
            const auto found = it->values.find(id.key);
            if (found != it->values.end())
                co_return Fetched{found->second, {}, it->path};
        }
        std::string where = "the environment";
        for (const auto& file : files_)
            where += str_cat(", ", file.path);
        co_return Error(Errc::not_found, str_cat(util::quoted(id.key), " is not set in ", where));
    }

    boost::asio::awaitable<Result<std::vector<NamedSecret>>> fetch_all() override
    {
        if (auto loaded = load(); !loaded)
            co_return loaded.error();
        SecretMap merged;
        std::map<std::string, std::string, std::less<>> sources;
        for (const auto& file : files_)
            for (const auto& [key, value] : file.values) {
                merged.insert_or_assign(key, value);
                sources.insert_or_assign(key, file.path);
            }
        std::vector<NamedSecret> all;
        all.reserve(merged.size());
        for (auto& [key, value] : merged) {
            // The inherited environment wins, as for single keys.
            if (auto v = context_.env.get(key))
                all.push_back({key, Fetched{SecretString(*v), {}, "environment"}});
            else
                all.push_back({key, Fetched{std::move(value), {}, sources[key]}});
        }
        co_return all;
    }

private:
    struct File {
        std::string path;
        SecretMap values;
    };

    Result<void> load()
    {
        if (loaded_)
            return load_error_ ? Result<void>(*load_error_) : Result<void>{};
        loaded_ = true;
        Errors errors;
        for (const auto& path : context_.env_files) {
            Errors more;
            auto values = read_dotenv_file(path, more);
            if (values) {
                files_.push_back({path, std::move(*values)});
            } else if (values.error().code == Errc::not_found && !context_.env_files_explicit) {
                continue; // the default env.local vanished: nothing to read
            } else {
                errors.push_back(values.error());
                errors.insert(errors.end(), more.begin(), more.end());
            }
        }
        if (!errors.empty()) {
            // One error per line: the app prints each line with its own prefix.
            std::string message = errors.front().message;
            for (std::size_t i = 1; i < errors.size(); ++i)
                message += str_cat("\n", errors[i].message);
            load_error_ = Error(Errc::config, std::move(message));
            return *load_error_;
        }
        return {};
    }

    Context& context_;
    bool loaded_ = false;
    std::optional<Error> load_error_;
    std::vector<File> files_;
};

} // namespace

Result<SecretMap> read_dotenv_file(const std::string& path, Errors& errors)
{
    Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (file.fd < 0) {
        const int err = errno;
        return Error(err == ENOENT ? Errc::not_found : Errc::io,
                     str_cat(path, ": cannot open: ", std::strerror(err)));
    }
    struct stat st {};
    if (::fstat(file.fd, &st) != 0)
        return Error(Errc::io, str_cat(path, ": cannot stat: ", std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
        return Error(Errc::io, str_cat(path, ": not a regular file"));
    if (static_cast<std::size_t>(st.st_size) > max_dotenv_size)
        return Error(Errc::io, str_cat(path, ": larger than 1 MiB"));
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        log::warn(str_cat(path, " is readable by ", (st.st_mode & S_IROTH) ? "everyone" : "its group",
                          "; it holds secrets: chmod 600 ", path));

    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    for (;;) {
        if (used == text.size()) {
            if (text.size() > max_dotenv_size) {
                cleanse(text);
                return Error(Errc::io, str_cat(path, ": larger than 1 MiB"));
            }
            text.resize(text.size() * 2);
        }
        const ssize_t n = ::read(file.fd, text.data() + used, text.size() - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            cleanse(text);
            return Error(Errc::io, str_cat(path, ": cannot read: ", std::strerror(err)));
        }
        if (n == 0)
            break;
        used += static_cast<std::size_t>(n);
    }
    if (used > max_dotenv_size) {
        cleanse(text);
        return Error(Errc::io, str_cat(path, ": larger than 1 MiB"));
    }
    Errors parse_errors;
    SecretMap values = config::parse_dotenv(std::string_view(text.data(), used), path, parse_errors);
    cleanse(text);
    if (!parse_errors.empty()) {
        Error first = parse_errors.front();
        errors.insert(errors.end(), parse_errors.begin() + 1, parse_errors.end());
        return first;
    }
    return values;
}

std::unique_ptr<Backend> make_env_backend(Context& context)
{
    return std::make_unique<EnvBackend>(context);
}

} // namespace secrun::backends
