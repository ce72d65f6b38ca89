// Key Vault's answers: a 200's SecretBundle and an error body. Never
// crashes; a version read from the id is one that may go in a URL, and
// error parts are single bounded lines.
#include "fuzz_support.hpp"

#include "backends/azure_keyvault.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using secrun::fuzz::require;
    namespace kv = secrun::backends::azure_keyvault;
    const std::string_view body = secrun::fuzz::as_text(data, size);

    if (const auto bundle = kv::parse_secret_bundle(body))
        require(bundle->version.empty() || kv::is_version(bundle->version),
                "a bundle's version is a Key Vault version");

    const kv::KeyVaultError error = kv::parse_error(body);
    for (const std::string* part : {&error.code, &error.inner, &error.message})
        require(part->size() <= 303 && part->find_first_of("\r\n") == std::string::npos,
                "error parts are single bounded lines");
    return 0;
}
