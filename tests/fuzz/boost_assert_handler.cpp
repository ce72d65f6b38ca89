// BOOST_ASSERT in the fuzz build (BOOST_ENABLE_ASSERT_HANDLER): it aborts,
// as assert() does, so the fuzzer reports it; except for one known false
// alarm in Boost 1.81, which the fuzzer would otherwise hit at once.
//
// Beast's basic_parser::parse_chunk_header asserts `n >= 5` when it parses
// a final chunk again after asking for more input, but a final chunk without
// a pending CRLF may be only 3 bytes ("0\r\n") at that point; the code after
// the assertion handles that and asks for more input again. Beast fixed the
// assertion in boostorg/beast pull request 2861 (Boost 1.86). Release builds,
// like secrun's, compile it out (NDEBUG).
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line)
{
    if (std::strstr(file, "boost/beast/http/impl/basic_parser.ipp") != nullptr &&
        std::strcmp(expr, "n >= 5") == 0)
        return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion '%s' failed.\n", file, line, function, expr);
    std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file,
                          long line)
{
    std::fprintf(stderr, "%s:%ld: %s: Assertion '%s' failed: %s\n", file, line, function, expr, msg);
    std::abort();
}

} // namespace boost
