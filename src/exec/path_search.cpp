#include "exec/path_search.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace secrun::exec {

int check_executable(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EACCES;
    if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) != 0)
        return errno;
    return 0;
}

Result<std::string> find_in_path(std::string_view name, std::optional<std::string_view> path,
                                 const ExecutableCheck& is_executable)
{
    if (name.find('/') != std::string_view::npos)
        return std::string(name);
    if (name.empty())
        return Error(Errc::exec_not_found, "command '' not found");

    bool got_eacces = false;
    const std::string_view dirs = path.value_or(default_path);
    std::size_t start = 0;
    while (true) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::string_view dir = dirs.substr(start, end - start);

        std::string candidate = util::str_cat(dir.empty() ? std::string_view(".") : dir, "/", name);
        const int err = is_executable(candidate);
        switch (err) {
        case 0:
            return candidate;
        case EACCES:
            got_eacces = true;
            break;
        case ENOENT:
        case ENOTDIR:
        case ESTALE:
        case ENODEV:
        case ETIMEDOUT:
            break;
        default:
            return Error(Errc::exec_not_executable,
                         util::str_cat("command ", util::quoted(name),
                                       " is not executable: ", std::strerror(err)));
        }

        if (end == dirs.size())
            break;
        start = end + 1;
    }

    if (got_eacces)
        return Error(Errc::exec_not_executable,
                     util::str_cat("command ", util::quoted(name),
                                   " is not executable: ", std::strerror(EACCES)));
    return Error(Errc::exec_not_found,
                 util::str_cat("command ", util::quoted(name), " not found in PATH"));
}

} // namespace secrun::exec
