#include "exec/file_writer.hpp"

#include "util/strings.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace secrun::exec {
namespace {

constexpr mode_t file_mode = 0400;
constexpr mode_t dir_mode = 0700;

Error io_error(std::string_view name, std::string_view what, std::string_view path, int err)
{
    return Error(Errc::io, util::str_cat(name, ": ", what, " ", util::quoted(path), ": ",
                                         std::strerror(err)));
}

// Writes all of `data` to `fd`, through short writes and EINTR. Returns 0 or errno.
int write_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

// fchmod (the umask may have taken bits away), write, fstat, close.
// Returns 0 or errno; the descriptor is closed either way.
int fill_file(int fd, std::string_view data, struct stat& st)
{
    int err = 0;
    if (::fchmod(fd, file_mode) != 0)
        err = errno;
    if (err == 0)
        err = write_all(fd, data);
    if (err == 0 && ::fstat(fd, &st) != 0)
        err = errno;
    if (::close(fd) != 0 && err == 0)
        err = errno;
    return err;
}

bool is_file_name(std::string_view name)
{
    return !name.empty() && name != "." && name != ".." &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

} // namespace

std::vector<std::string> private_dir_bases(const EnvMap& env)
{
    std::vector<std::string> bases;
    auto add_variable = [&](std::string_view variable) {
        const auto value = env.get_nonempty(variable);
        if (value && value->front() == '/')
            bases.emplace_back(*value);
    };
    add_variable("XDG_RUNTIME_DIR");
    bases.emplace_back("/dev/shm");
    add_variable("TMPDIR");
    bases.emplace_back("/tmp");
    return bases;
}

FileSet::FileSet(std::vector<std::string> bases) : bases_(std::move(bases)) {}

FileSet::FileSet(FileSet&& other) noexcept
    : bases_(std::move(other.bases_)), dir_(std::move(other.dir_)),
      written_(std::move(other.written_)), released_(other.released_)
{
    other.dir_.clear();
    other.written_.clear();
}

FileSet::~FileSet()
{
    if (!released_)
        remove_all();
}

void FileSet::release() noexcept { released_ = true; }

void FileSet::remove_all() noexcept
{
    for (auto it = written_.rbegin(); it != written_.rend(); ++it) {
        // Only what is still ours: the path may have been replaced since.
        struct stat st {};
        if (::lstat(it->path.c_str(), &st) == 0 && st.st_dev == it->dev && st.st_ino == it->ino)
            ::unlink(it->path.c_str());
    }
    written_.clear();
    if (!dir_.empty())
        ::rmdir(dir_.c_str());
    dir_.clear();
}

Result<std::string> FileSet::write(std::string_view name, const SecretString& value,
                                   std::string_view path)
{
    if (path.empty())
        return write_private(name, value);
    return write_replacing(name, value, path);
}

Result<void> FileSet::make_private_dir(std::string_view name)
{
    std::string failures;
    for (const auto& base : bases_) {
        std::string dir = util::str_cat(base, base.ends_with('/') ? "" : "/", "secrun-XXXXXX");
        if (::mkdtemp(dir.data()) != nullptr) {
            // mkdtemp asks for 0700 but the umask may take bits away.
            if (::chmod(dir.c_str(), dir_mode) != 0) {
                const int err = errno;
                ::rmdir(dir.c_str());
                return io_error(name, "cannot create a private directory", dir, err);
            }
            dir_ = std::move(dir);
            return {};
        }
        const int err = errno;
        failures.append(failures.empty() ? "" : "; ")
            .append(util::quoted(base))
            .append(": ")
            .append(std::strerror(err));
    }
    if (failures.empty())
        failures = "no directory to create it in";
    return Error(Errc::io,
                 util::str_cat(name, ": cannot create a private directory: ", failures));
}

Result<std::string> FileSet::write_private(std::string_view name, const SecretString& value)
{
    if (!is_file_name(name))
        return Error(Errc::value, util::str_cat(name, ": not usable as a file name"));
    if (dir_.empty()) {
        if (auto made = make_private_dir(name); !made)
            return made.error();
    }

    std::string path = util::str_cat(dir_, "/", name);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          file_mode);
    if (fd < 0) {
        const int err = errno;
        return io_error(name, "cannot create", path, err);
    }
    struct stat st {};
    if (const int err = fill_file(fd, value.reveal(), st); err != 0) {
        ::unlink(path.c_str());
        return io_error(name, "cannot write", path, err);
    }
    written_.push_back({path, st.st_dev, st.st_ino});
    return path;
}

Result<std::string> FileSet::write_replacing(std::string_view name, const SecretString& value,
                                             std::string_view path)
{
    const auto slash = path.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (path.find('\0') != std::string_view::npos)
        return io_error(name, "cannot write", path, EINVAL);
    if (!is_file_name(base))
        return io_error(name, "cannot write", path, EISDIR);
    const std::string_view dir = slash == std::string_view::npos ? std::string_view(".")
                                 : slash == 0                     ? std::string_view("/")
                                                                  : path.substr(0, slash);

    // A hidden temporary beside the target, so that rename stays in one
    // file system and is atomic.
    std::string temp = util::str_cat(dir, dir.ends_with('/') ? "" : "/", ".", base, ".XXXXXX");
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        return io_error(name, "cannot write", path, err);
    }
    struct stat st {};
    if (const int err = fill_file(fd, value.reveal(), st); err != 0) {
        ::unlink(temp.c_str());
        return io_error(name, "cannot write", path, err);
    }
    std::string target(path);
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return io_error(name, "cannot write", path, err);
    }
    // Removal must find the file even if the working directory changes.
    std::error_code ec;
    auto absolute = std::filesystem::absolute(target, ec);
    written_.push_back({ec ? target : absolute.string(), st.st_dev, st.st_ino});
    return target;
}

} // namespace secrun::exec
