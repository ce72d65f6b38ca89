#include "https/client.hpp"
#include "secret.hpp"
#include "util/strings.hpp"

namespace secrun::https {

Response::~Response() { cleanse(body); }

std::optional<std::string_view> Response::header(std::string_view name) const
{
    for (const auto& [key, value] : headers)
        if (util::iequals(key, name))
            return std::string_view(value);
    return std::nullopt;
}

} // namespace secrun::https
