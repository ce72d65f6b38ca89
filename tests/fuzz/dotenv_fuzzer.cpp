// parse_dotenv on arbitrary bytes: never crashes, errors carry
// FILE:LINE:COLUMN, and a file with any error yields no value at all.
#include "fuzz_support.hpp"

#include "config/dotenv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    secrun::Errors errors;
    const auto values =
        secrun::config::parse_dotenv(secrun::fuzz::as_text(data, size), "fuzz.env", errors);
    for (const auto& e : errors)
        require(e.message.rfind("fuzz.env:", 0) == 0, "an error starts with FILE:");
    require(errors.empty() || values.empty(), "a file with errors is not read at all");
    for (const auto& [name, value] : values)
        require(!name.empty(), "a key is not empty");
    return 0;
}
