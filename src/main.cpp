// secrun: resolve a program's secrets, then exec it.
#include <cstdio>

int main()
{
    std::puts("secrun 0.1.0");
    return 0;
}
