#include "error.hpp"

#include <boost/assert/source_location.hpp>

#include <stdexcept>

namespace secrun {

Error with_context(Error e, std::string_view context)
{
    std::string message;
    message.reserve(context.size() + 2 + e.message.size());
    message.append(context).append(": ").append(e.message);
    e.message = std::move(message);
    return e;
}

int exit_code_for(Errc code) noexcept
{
    switch (code) {
    case Errc::exec_not_found:
        return 127;
    case Errc::exec_not_executable:
        return 126;
    default:
        return 125;
    }
}

void throw_exception_from_error(const Error& e, const boost::source_location&)
{
    throw std::runtime_error(e.message);
}

} // namespace secrun
