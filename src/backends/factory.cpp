// make_backend(): the one place that maps a backend name to its implementation.
#include "backends/backend.hpp"

#include "backends/aws_secrets_backend.hpp"
#include "backends/azure_keyvault.hpp"
#include "backends/doppler_backend.hpp"
#include "backends/env_backend.hpp"
#include "util/strings.hpp"

namespace secrun::backends {

Result<std::unique_ptr<Backend>> make_backend(std::string_view name, Context& context)
{
    if (name == "env")
        return make_env_backend(context);
    if (name == "azure_keyvault")
        return make_azure_keyvault_backend(context);
    if (name == "aws_secrets")
        return make_aws_secrets_backend(context);
    if (name == "doppler")
        return make_doppler_backend(context);
    return Error(Errc::config, util::str_cat("unknown backend ", util::quoted(name)));
}

} // namespace secrun::backends
