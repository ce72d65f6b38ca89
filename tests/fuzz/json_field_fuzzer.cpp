// select_json_field: the first line is the field path, the rest the JSON
// document (strict JSON, any depth, any bytes). Never crashes.
#include "fuzz_support.hpp"

#include "resolve/json_field.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    const auto parts = secrun::fuzz::fields(secrun::fuzz::as_text(data, size), 2);
    const auto selected = secrun::resolve::select_json_field(parts[1], parts[0]);
    if (!selected)
        require(selected.error().code == secrun::Errc::not_found ||
                    selected.error().code == secrun::Errc::value,
                "a failed selection is not_found or value");
    return 0;
}
