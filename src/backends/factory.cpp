#include "backends/backend.hpp"

#include "backends/aws_secrets_backend.hpp"
#include "util/strings.hpp"

namespace secrun::backends {

Result<std::unique_ptr<Backend>> make_backend(std::string_view name, Context& context)
{
    if (name == "aws_secrets")
        return make_aws_secrets_backend(context);
    return Error(Errc::config, util::str_cat("the ", name, " backend is not available in this build"));
}

} // namespace secrun::backends
