// `file` manifest entries: a value written to a 0400 file, the variable set to its path.
#pragma once

#include "env_map.hpp"
#include "error.hpp"
#include "secret.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace secrun::exec {

/// Where the private directory may go, best first: $XDG_RUNTIME_DIR (a
/// per-user tmpfs), /dev/shm (tmpfs), $TMPDIR, /tmp. Variables that are unset,
/// empty or not absolute are skipped.
[[nodiscard]] std::vector<std::string> private_dir_bases(const EnvMap& env);

/// The files of one run. Everything written is removed again when the set is
/// destroyed or remove_all() is called (a failure path: secrun exits 125 and
/// the command never runs), unless release() was called first. On the exec
/// path nothing needs to be done: execve runs no destructor, and if execve
/// fails the files are rightly removed. Not thread-safe.
class FileSet {
public:
    /// `bases`: candidates for the private directory (private_dir_bases()).
    explicit FileSet(std::vector<std::string> bases);
    FileSet(const FileSet&) = delete;
    FileSet& operator=(const FileSet&) = delete;
    FileSet(FileSet&& other) noexcept;
    FileSet& operator=(FileSet&&) = delete;
    ~FileSet();

    /// Writes `value` and returns the path the variable should hold.
    ///  - `path` empty: the file `name` (a plain file name, normally the
    ///    variable's) in a private directory, created on first use with mkdtemp
    ///    (mode 0700) in the first base that accepts it; the file is created
    ///    O_EXCL|O_NOFOLLOW with mode 0400.
    ///  - `path` given: a temporary file in the same directory, mode 0400, is
    ///    written and then renamed over `path`, so a reader sees the old file
    ///    or the whole new one. The returned path is `path` as written. No
    ///    fsync: the file is for this run, not for surviving a crash.
    /// Errors name the variable and the path, never the value:
    ///   "TLS_CERT: cannot write '/run/cert.pem': Permission denied" (Errc::io)
    ///   "TLS_CERT: cannot create '/dev/shm/secrun-Ab12Cd/TLS_CERT': File exists" (Errc::io)
    ///   "TLS_CERT: cannot create a private directory: '/dev/shm': <strerror>; '/tmp': <strerror>" (Errc::io)
    ///   "a/b: not usable as a file name" (Errc::value)
    /// A failed write leaves no partial file behind.
    [[nodiscard]] Result<std::string> write(std::string_view name, const SecretString& value,
                                            std::string_view path = {});

    /// Keeps every file: the destructor no longer removes anything.
    void release() noexcept;

    /// Removes every file written (those still the ones this set wrote: same
    /// device and inode) and the private directory, now.
    void remove_all() noexcept;

    /// The private directory; empty until a write without a path created it.
    [[nodiscard]] const std::string& private_dir() const noexcept { return dir_; }

private:
    struct Written {
        std::string path;
        dev_t dev;
        ino_t ino;
    };

    [[nodiscard]] Result<std::string> write_private(std::string_view name,
                                                    const SecretString& value);
    [[nodiscard]] Result<std::string> write_replacing(std::string_view name,
                                                      const SecretString& value,
                                                      std::string_view path);
    [[nodiscard]] Result<void> make_private_dir(std::string_view name);

    std::vector<std::string> bases_;
    std::string dir_;
    std::vector<Written> written_;
    bool released_ = false;
};

} // namespace secrun::exec
