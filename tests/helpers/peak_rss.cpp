// Benchmark helper: `peak_rss OUT_FILE COMMAND [ARG...]` runs COMMAND (PATH
// search, this environment and these descriptors), waits for it, writes its
// peak resident set size in KiB (wait4's ru_maxrss) to OUT_FILE, and exits
// with COMMAND's status (128+N when signal N killed it).
//
// Why a helper: Linux keeps ru_maxrss across execve, and a child started by
// fork or vfork starts from its parent's address space, so a child of the
// bench driver (python, ~25 MB) would report at least the driver's RSS. This
// helper is small, so the figure it reports is COMMAND's own peak, or this
// helper's footprint (about 1 MB) when COMMAND is smaller still.
// Usage errors: status 64; COMMAND not started: 127.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

extern char** environ;

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fputs("usage: peak_rss OUT_FILE COMMAND [ARG...]\n", stderr);
        return 64;
    }
    pid_t pid = 0;
    if (const int error = ::posix_spawnp(&pid, argv[2], nullptr, nullptr, argv + 2, environ);
        error != 0) {
        std::fprintf(stderr, "peak_rss: cannot run %s: %s\n", argv[2], std::strerror(error));
        return 127;
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            std::perror("peak_rss: wait4");
            return 125;
        }
    }
    std::FILE* out = std::fopen(argv[1], "w");
    if (out == nullptr || std::fprintf(out, "%ld\n", usage.ru_maxrss) < 0 || std::fclose(out) != 0) {
        std::fprintf(stderr, "peak_rss: cannot write %s\n", argv[1]);
        return 125;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
