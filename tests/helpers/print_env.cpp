// Test helper: writes its environment byte for byte, each entry followed by a
// NUL byte (as `env -0` does), to stdout or to the file named by argv[1].
// Exit status 0, or 1 (with a message on stderr) when it cannot write.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

extern char** environ;

namespace {

bool write_all(int fd, const char* data, std::size_t size)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    int fd = STDOUT_FILENO;
    if (argc > 1) {
        fd = ::open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            std::fprintf(stderr, "print_env: cannot open %s: %s\n", argv[1], std::strerror(errno));
            return 1;
        }
    }
    std::string out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        out.append(*e).push_back('\0');
    if (!write_all(fd, out.data(), out.size()) || (fd != STDOUT_FILENO && ::close(fd) != 0)) {
        std::fprintf(stderr, "print_env: cannot write: %s\n", std::strerror(errno));
        return 1;
    }
    return 0;
}
