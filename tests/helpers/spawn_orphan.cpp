// Test helper: `spawn_orphan [FILE]` leaves an orphan behind and checks that
// whoever inherits it reaps it.
//
// It forks a child that forks a grandchild and exits at once. The grandchild
// waits until it has been re-parented, writes "<its pid> <new parent pid>\n"
// to FILE (or stdout), sleeps 50 ms and exits. spawn_orphan then waits until
// the grandchild has disappeared from /proc (reaped by its new parent, such as
// an init or a child subreaper) and exits 0; if it is still there after 10 s
// (a zombie nobody reaps) it exits 1. Setup failures: status 2.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

void sleep_ms(long ms)
{
    timespec ts{ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "spawn_orphan: %s: %s\n", what, std::strerror(errno));
    ::_exit(2);
}

} // namespace

int main(int argc, char** argv)
{
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        fail("pipe");

    const pid_t child = ::fork();
    if (child < 0)
        fail("fork");
    if (child == 0) {
        ::close(pipe_fds[0]);
        const pid_t grandchild = ::fork();
        if (grandchild < 0)
            fail("fork");
        if (grandchild == 0) {
            const pid_t first_parent = ::getppid();
            for (int i = 0; i < 10000 && ::getppid() == first_parent; ++i)
                sleep_ms(1);
            const std::string line =
                std::to_string(::getpid()) + " " + std::to_string(::getppid()) + "\n";
            if (::write(pipe_fds[1], line.data(), line.size()) < 0)
                fail("write");
            ::close(pipe_fds[1]);
            sleep_ms(50);
            ::_exit(0);
        }
        ::_exit(0); // orphans the grandchild
    }

    ::close(pipe_fds[1]);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    std::string line;
    char buf[64];
    ssize_t n = 0;
    while ((n = ::read(pipe_fds[0], buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("read");
        line.append(buf, static_cast<std::size_t>(n));
    }
    if (line.empty()) {
        std::fputs("spawn_orphan: the grandchild reported nothing\n", stderr);
        return 2;
    }

    if (argc > 1) {
        std::FILE* out = std::fopen(argv[1], "we");
        if (out == nullptr || std::fputs(line.c_str(), out) < 0 || std::fclose(out) != 0)
            fail("cannot write the report");
    } else {
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
    }

    const std::string proc = "/proc/" + line.substr(0, line.find(' '));
    for (int i = 0; i < 1000; ++i) {
        struct stat st {};
        if (::stat(proc.c_str(), &st) != 0 && errno == ENOENT)
            return 0;
        sleep_ms(10);
    }
    std::fprintf(stderr, "spawn_orphan: %s was not reaped within 10 s\n", proc.c_str());
    return 1;
}
