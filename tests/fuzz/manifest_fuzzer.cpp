// manifest::parse on arbitrary bytes: never crashes, every error carries
// FILE:LINE:COLUMN, every entry it keeps is well formed.
#include "fuzz_support.hpp"

#include "manifest/manifest.hpp"
#include "util/strings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    secrun::Errors errors;
    const auto manifest =
        secrun::manifest::parse(secrun::fuzz::as_text(data, size), "fuzz.manifest", errors);
    for (const auto& e : errors) {
        require(e.code == secrun::Errc::manifest, "manifest errors are Errc::manifest");
        require(e.message.rfind("fuzz.manifest:", 0) == 0, "an error starts with FILE:");
    }
    for (const auto& entry : manifest.entries) {
        require(secrun::util::is_env_name(entry.name), "an entry's name is a POSIX name");
        require(!entry.ref.key.empty(), "an entry has a key");
        require(!entry.default_value || entry.optional, "default= implies optional");
        require(!entry.file.enabled || entry.file.path.empty() || entry.file.path.front() == '/',
                "a file path is absolute");
    }
    return 0;
}
