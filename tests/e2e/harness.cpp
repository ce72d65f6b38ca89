#include "e2e/harness.hpp"

#include "fakes/run_awaitable.hpp"
#include "util/subprocess.hpp"

#include <stdexcept>

namespace secrun::e2e {

std::string secrun_binary() { return SECRUN_BINARY; }

std::string helper(std::string_view name)
{
    return (std::filesystem::path(SECRUN_HELPERS_DIR) / name).string();
}

EnvMap base_env() { return EnvMap(EnvMap::Map{{"PATH", "/usr/bin:/bin"}}); }

Run run_secrun(const std::vector<std::string>& args, const EnvMap& env,
               const std::filesystem::path& cwd, std::chrono::milliseconds timeout)
{
    std::vector<std::string> argv{secrun_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = testing::run(util::run_subprocess(std::move(argv), env, {timeout, 8 << 20},
                                                    cwd.string()));
    if (!result)
        throw std::runtime_error("running secrun: " + result.error().message);
    Run run;
    // Boost.Process reports a death by signal N as 128+N? It reports the raw
    // status decoded by WEXITSTATUS/WTERMSIG; normalise to the shell's form.
    run.status = result->exit_code;
    run.out = result->out;
    run.err = result->err;
    return run;
}

std::map<std::string, std::string> parse_env0(const std::string& bytes)
{
    std::map<std::string, std::string> vars;
    std::size_t start = 0;
    while (start < bytes.size()) {
        auto end = bytes.find('\0', start);
        if (end == std::string::npos)
            end = bytes.size();
        const std::string entry = bytes.substr(start, end - start);
        const auto eq = entry.find('=');
        if (eq != std::string::npos)
            vars.emplace(entry.substr(0, eq), entry.substr(eq + 1));
        start = end + 1;
    }
    return vars;
}

} // namespace secrun::e2e
