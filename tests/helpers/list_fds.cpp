// Test helper: prints the file descriptors open in this process, from
// /proc/self/fd, in increasing order, one per line ("0\n1\n2\n"), to stdout or
// to the file named by argv[1] (opened only after listing, so it is not counted).
// Exit status 0, or 1 with a message on stderr.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <dirent.h>

int main(int argc, char** argv)
{
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        std::fprintf(stderr, "list_fds: cannot open /proc/self/fd: %s\n", std::strerror(errno));
        return 1;
    }
    const int own = ::dirfd(dir);
    std::vector<long> fds;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.')
            continue;
        const long fd = std::strtol(entry->d_name, nullptr, 10);
        if (fd != own)
            fds.push_back(fd);
    }
    ::closedir(dir);
    std::sort(fds.begin(), fds.end());

    std::FILE* out = stdout;
    if (argc > 1 && (out = std::fopen(argv[1], "we")) == nullptr) {
        std::fprintf(stderr, "list_fds: cannot open %s: %s\n", argv[1], std::strerror(errno));
        return 1;
    }
    for (long fd : fds)
        std::fprintf(out, "%ld\n", fd);
    if (std::fflush(out) != 0 || (out != stdout && std::fclose(out) != 0)) {
        std::fprintf(stderr, "list_fds: cannot write: %s\n", std::strerror(errno));
        return 1;
    }
    return 0;
}
