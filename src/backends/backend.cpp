#include "backends/backend.hpp"

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

} // namespace secrun::backends
