// Test helper: prints prctl(PR_GET_DUMPABLE) ("0\n" or "1\n") on stdout, to
// show what dumpability a command gets after execve.
#include <cstdio>

#include <sys/prctl.h>

int main()
{
    std::printf("%d\n", ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    return 0;
}
