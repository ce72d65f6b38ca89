#include "backends/backend.hpp"

#include "backends/azure_keyvault.hpp"
#include "util/strings.hpp"

namespace secrun::backends {

boost::asio::awaitable<Result<void>> Backend::prepare(std::vector<SecretId>)
{
    co_return Result<void>{};
}

boost::asio::awaitable<Result<std::vector<NamedSecret>>> Backend::fetch_all()
{
    co_return Error(Errc::config,
                    util::str_cat("the ", name(),
                                  " backend cannot list its secrets: give a manifest "
                                  "(--manifest) or environment references"));
}

Result<std::unique_ptr<Backend>> make_backend(std::string_view name, Context& context)
{
    if (name == "azure_keyvault")
        return make_azure_keyvault_backend(context);
    return Error(Errc::config, util::str_cat("unknown backend ", util::quoted(name)));
}

} // namespace secrun::backends
