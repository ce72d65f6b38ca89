// Test helper: `exit_with N` exits with status N (0..255).
// A missing or bad N is reported on stderr with status 64 (EX_USAGE).
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fputs("usage: exit_with N\n", stderr);
        return 64;
    }
    char* end = nullptr;
    const long status = std::strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || status < 0 || status > 255) {
        std::fprintf(stderr, "exit_with: bad status '%s' (0..255)\n", argv[1]);
        return 64;
    }
    return static_cast<int>(status);
}
