// Runs a coroutine to completion on a private io_context (unit tests).
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>
#include <stdexcept>

namespace secrun::testing {

template <class T>
T run(boost::asio::awaitable<T> task)
{
    boost::asio::io_context ioc;
    std::optional<T> result;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e)
            result.emplace(std::move(value));
    });
    ioc.run();
    if (error)
        std::rethrow_exception(error);
    if (!result)
        throw std::logic_error("coroutine did not complete");
    return std::move(*result);
}

} // namespace secrun::testing
