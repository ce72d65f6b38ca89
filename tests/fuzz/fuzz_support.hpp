// Shared by the libFuzzer targets: the input as text, split into fields, and
// invariant checks that stop the fuzzer (abort) with a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace secrun::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

// The first `count - 1` lines of `text` and then the rest (which may hold
// more newlines); missing fields are empty.
inline std::vector<std::string_view> fields(std::string_view text, std::size_t count)
{
    std::vector<std::string_view> out;
    while (out.size() + 1 < count) {
        const auto newline = text.find('\n');
        if (newline == std::string_view::npos) {
            out.push_back(text);
            text = {};
            continue;
        }
        out.push_back(text.substr(0, newline));
        text.remove_prefix(newline + 1);
    }
    out.push_back(text);
    return out;
}

// An invariant the code under test documents; a violation is a bug.
inline void require(bool condition, const char* what)
{
    if (!condition) {
        std::fprintf(stderr, "invariant violated: %s\n", what);
        std::abort();
    }
}

} // namespace secrun::fuzz
