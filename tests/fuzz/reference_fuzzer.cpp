// parse_reference on arbitrary text: never crashes, an error's offset lies
// in the text, and a parsed reference survives to_string() unchanged. The
// same text as an inherited variable (entries_from_environment) too.
#include "fuzz_support.hpp"

#include "env_map.hpp"
#include "manifest/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    const std::string_view text = secrun::fuzz::as_text(data, size);

    std::size_t offset = 0;
    const auto ref = secrun::manifest::parse_reference(text, &offset);
    if (ref) {
        const std::string written = ref->to_string();
        const auto again = secrun::manifest::parse_reference(written);
        require(again.has_value(), "to_string() of a reference parses");
        require(*again == *ref, "parse_reference(r.to_string()) == r");
        (void)ref->to_string("aws_secrets");
    } else {
        require(ref.error().code == secrun::Errc::manifest, "reference errors are Errc::manifest");
        require(offset <= text.size(), "the error offset lies in the text");
    }

    secrun::EnvMap env;
    env.set("FUZZ_VAR", std::string(text));
    secrun::Errors errors;
    const auto entries = secrun::manifest::entries_from_environment(env, errors);
    require(entries.size() + errors.size() <= 1, "one variable gives at most one entry or error");
    return 0;
}
