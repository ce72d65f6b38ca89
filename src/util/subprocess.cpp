#include "util/subprocess.hpp"

#include "secret.hpp"
#include "util/strings.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
// Boost.Process v2 (header-only here, used only in this file). In 1.81 its
// config header needs these before it when BOOST_PROCESS_USE_STD_FS is set.
#include <boost/optional.hpp>
#include <boost/type_traits.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>
// Header-only mode in 1.81 forgets process_environment's out-of-line members.
#include <boost/process/v2/impl/environment.ipp>

#include <array>
#include <filesystem>
#include <fcntl.h>
#include <linux/close_range.h>
#include <unistd.h>

namespace secrun::util {
namespace asio = boost::asio;
namespace bp = boost::process::v2;
using namespace asio::experimental::awaitable_operators;

SubprocessOutput::~SubprocessOutput() { cleanse(out); }

namespace {

constexpr auto use_awaitable = asio::use_awaitable;

// Finds `name` as execvp would, in the given PATH.
std::string find_program(std::string_view name, const EnvMap& env)
{
    if (name.find('/') != std::string_view::npos)
        return std::string(name);
    const auto path = env.get("PATH").value_or("/bin:/usr/bin");
    for (auto dir : split(path, ':')) {
        std::string candidate = str_cat(dir.empty() ? "." : dir, "/", name);
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

// Boost.Process initializer: in the child, after stdio is set up, marks every
// other descriptor close-on-exec. secrun's sockets are not (Asio 1.81 opens
// them without SOCK_CLOEXEC), and a credential helper must not inherit them.
struct CloseOtherFds {
    template <class Launcher>
    boost::system::error_code on_exec_setup(Launcher&, const std::filesystem::path&,
                                            const char* const*)
    {
        if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
            const long max = ::sysconf(_SC_OPEN_MAX);
            for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); ++fd)
                ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        return {};
    }
};

// Reads the pipe until EOF; once `limit` bytes are exceeded it closes the
// sibling pipe too (so that the sibling's read ends) and reports false.
asio::awaitable<bool> read_bounded(asio::readable_pipe& pipe, std::string& into, std::size_t limit,
                                   asio::readable_pipe& sibling)
{
    std::array<char, 4096> buffer;
    for (;;) {
        auto [ec, n] = co_await pipe.async_read_some(asio::buffer(buffer),
                                                     asio::as_tuple(use_awaitable));
        into.append(buffer.data(), n);
        cleanse(buffer.data(), n);
        if (into.size() > limit) {
            boost::system::error_code ignored;
            sibling.close(ignored);
            co_return false;
        }
        if (ec)
            co_return true; // EOF (or the writer vanished): done
    }
}

} // namespace

asio::awaitable<Result<SubprocessOutput>> run_subprocess(std::vector<std::string> argv, EnvMap env,
                                                         SubprocessLimits limits, std::string cwd)
{
    if (argv.empty())
        co_return Error(Errc::internal, "run_subprocess: empty command");
    const std::string program = find_program(argv.front(), env);
    if (program.empty())
        co_return Error(Errc::config, str_cat("command ", util::quoted(argv.front()), " not found in PATH"));

    auto executor = co_await asio::this_coro::executor;
    std::vector<std::string> env_strings;
    env_strings.reserve(env.vars().size());
    for (const auto& [name, value] : env.vars())
        env_strings.push_back(str_cat(name, "=", value));
    std::vector<std::string> args(argv.begin() + 1, argv.end());

    SubprocessOutput output;
    try {
        asio::readable_pipe out_pipe(executor);
        asio::readable_pipe err_pipe(executor);
        const std::filesystem::path start_dir =
            cwd.empty() ? std::filesystem::current_path() : std::filesystem::path(cwd);
        bp::process child(executor, std::filesystem::path(program), args,
                          bp::process_stdio{nullptr, out_pipe, err_pipe},
                          bp::process_environment(env_strings), bp::process_start_dir(start_dir),
                          CloseOtherFds{});
        asio::steady_timer timer(executor, limits.timeout);

        bool out_ok = true;
        bool err_ok = true;
        auto outcome = co_await ((read_bounded(out_pipe, output.out, limits.max_output, err_pipe) &&
                                  read_bounded(err_pipe, output.err, limits.max_output, out_pipe)) ||
                                 timer.async_wait(use_awaitable));
        if (outcome.index() == 1) {
            child.terminate();
            co_return Error(Errc::timeout,
                            str_cat(util::quoted(argv.front()), " did not finish within ",
                                    std::to_string(limits.timeout.count()), " ms"));
        }
        std::tie(out_ok, err_ok) = std::get<0>(outcome);
        if (!out_ok || !err_ok) {
            child.terminate();
            co_return Error(Errc::bad_response,
                            str_cat(util::quoted(argv.front()), " wrote more than ",
                                    std::to_string(limits.max_output), " bytes"));
        }
        timer.expires_after(limits.timeout);
        auto waited = co_await (child.async_wait(use_awaitable) || timer.async_wait(use_awaitable));
        if (waited.index() == 1) {
            child.terminate();
            co_return Error(Errc::timeout,
                            str_cat(util::quoted(argv.front()), " did not exit within ",
                                    std::to_string(limits.timeout.count()), " ms"));
        }
        output.exit_code = std::get<0>(waited);
    } catch (const boost::system::system_error& e) {
        co_return Error(Errc::config,
                        str_cat("could not run ", util::quoted(argv.front()), ": ", e.code().message()));
    }
    co_return output;
}

} // namespace secrun::util
