#include "resolve/resolver.hpp"

#include "log.hpp"
#include "resolve/json_field.hpp"
#include "util/strings.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <map>

namespace secrun::resolve {
namespace asio = boost::asio;
using util::str_cat;

namespace {

// An environment string may hold at most MAX_ARG_STRLEN (32 pages) bytes.
constexpr std::size_t max_env_string = 32 * 4096 - 1;

std::string exception_text(std::exception_ptr e)
{
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "unknown exception";
    }
}

// Everything the run does with one backend. Lives in resolve_all's frame,
// which outlives the io_context's run, so coroutines may hold a pointer to it.
struct BackendRun {
    std::string name;
    std::unique_ptr<backends::Backend> backend;
    std::optional<Error> setup_error;
    std::vector<backends::SecretId> ids; // distinct, sorted
    std::vector<std::optional<Result<backends::Fetched>>> results;
    bool everything = false;
    std::optional<Result<std::vector<backends::NamedSecret>>> listed;
    std::vector<std::string> needed_by; // variable names, for the setup error

    std::size_t index_of(const backends::SecretId& id) const
    {
        return static_cast<std::size_t>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
    }
};

asio::awaitable<void> fetch_one(BackendRun* run, std::size_t i)
{
    // GCC 12: create the task on its own line, then await it (a coroutine
    // call with by-value arguments inside co_await miscompiles).
    auto task = run->backend->fetch(run->ids[i]);
    auto result = co_await std::move(task);
    run->results[i] = std::move(result);
}

asio::awaitable<void> run_backend(BackendRun* run)
{
    auto prepare_task = run->backend->prepare(run->ids);
    auto prepared = co_await std::move(prepare_task);
    if (!prepared) {
        run->setup_error = prepared.error();
        co_return;
    }
    if (run->everything) {
        auto list_task = run->backend->fetch_all();
        auto listed = co_await std::move(list_task);
        run->listed = std::move(listed);
    }
    const auto executor = co_await asio::this_coro::executor;
    for (std::size_t i = 0; i < run->ids.size(); ++i) {
        asio::co_spawn(executor, fetch_one(run, i), [run, i](std::exception_ptr e) {
            if (e)
                run->results[i] = Error(Errc::internal, exception_text(e));
        });
    }
}

backends::SecretId id_of(const manifest::Reference& ref)
{
    return {ref.key, std::string(ref.option("version")), std::string(ref.option("stage"))};
}

// Applies the entry's field selection and checks that the value can live in
// the environment.
Result<SecretString> shape_value(const manifest::Entry& entry, const SecretString& raw)
{
    SecretString value = raw;
    if (!entry.ref.field.empty()) {
        auto selected = select_json_field(raw.reveal(), entry.ref.field);
        if (!selected)
            return selected.error();
        value = std::move(*selected);
    }
    if (!entry.file.enabled) {
        if (value.reveal().find('\0') != std::string_view::npos)
            return Error(Errc::value, "the value contains a NUL byte, which an environment variable "
                                      "cannot hold; use a file entry (add 'file' to the manifest line)");
        if (entry.name.size() + 1 + value.size() > max_env_string)
            return Error(Errc::value, "the value is larger than an environment variable may be "
                                      "(128 KiB); use a file entry (add 'file' to the manifest line)");
    }
    return value;
}

} // namespace

Outcome resolve_all(const Plan& plan, const Settings& settings, const EnvMap& env,
                    const ClientFactory& make_client,
                    std::function<std::chrono::system_clock::time_point()> now)
{
    Outcome outcome;
    if (!now)
        now = [] { return std::chrono::system_clock::now(); };

    // The io_context outlives everything declared after it: the client,
    // the backends and their runs are destroyed first, then the context.
    asio::io_context ioc(1);
    https::ClientOptions http = settings.http;
    http.deadline = std::chrono::steady_clock::now() + settings.timeout;
    std::unique_ptr<https::Client> client = make_client(ioc, http);

    backends::Context context{env, *client, settings.env_files, settings.env_files_explicit,
                              settings.aws_batch, now};
    std::map<std::string, BackendRun, std::less<>> runs;

    const auto backend_of = [&](const manifest::Entry& e) -> const std::string& {
        return e.ref.backend.empty() ? settings.default_backend : e.ref.backend;
    };
    const auto run_for = [&](const std::string& name) -> BackendRun& {
        auto [it, inserted] = runs.try_emplace(name);
        if (inserted) {
            it->second.name = name;
            auto backend = backends::make_backend(name, context);
            if (backend)
                it->second.backend = std::move(*backend);
            else
                it->second.setup_error = backend.error();
        }
        return it->second;
    };

    // Plan the distinct secrets of each backend; keys the backend refuses
    // are errors before anything is fetched.
    std::vector<std::optional<std::string>> key_errors(plan.entries.size());
    for (std::size_t i = 0; i < plan.entries.size(); ++i) {
        const auto& entry = plan.entries[i];
        BackendRun& run = run_for(backend_of(entry));
        run.needed_by.push_back(entry.name);
        if (run.backend) {
            if (auto problem = run.backend->check_key(entry.ref.key)) {
                key_errors[i] = std::move(*problem);
                continue;
            }
        }
        run.ids.push_back(id_of(entry.ref));
    }
    if (plan.everything)
        run_for(settings.default_backend).everything = true;

    for (auto& [name, run] : runs) {
        std::sort(run.ids.begin(), run.ids.end());
        run.ids.erase(std::unique(run.ids.begin(), run.ids.end()), run.ids.end());
        run.results.resize(run.ids.size());
        if (!run.backend)
            continue;
        if (run.ids.empty() && !run.everything)
            continue;
        BackendRun* pointer = &run;
        asio::co_spawn(ioc, run_backend(pointer), [pointer](std::exception_ptr e) {
            if (e && !pointer->setup_error)
                pointer->setup_error = Error(Errc::internal, exception_text(e));
        });
    }

    // The client enforces the deadline on every operation; the extra second
    // only guards against a bug leaving work behind.
    ioc.run_for(settings.timeout + std::chrono::seconds(1));
    outcome.stats = client->stats();

    // Backends that could not start fail all their entries with one message.
    for (auto& [name, run] : runs) {
        if (run.setup_error) {
            std::string users;
            for (const auto& n : run.needed_by)
                users += users.empty() ? n : str_cat(", ", n);
            outcome.errors.push_back(with_context(
                *run.setup_error,
                users.empty() ? name : str_cat(name, " (needed by ", users, ")")));
        } else if (run.backend) {
            for (auto& v : run.backend->credential_variables())
                outcome.credential_variables.push_back(std::move(v));
        }
    }

    std::map<std::string, bool, std::less<>> named;
    for (std::size_t i = 0; i < plan.entries.size(); ++i) {
        const auto& entry = plan.entries[i];
        const std::string& backend_name = backend_of(entry);
        BackendRun& run = runs.find(backend_name)->second;

        Resolution r;
        r.name = entry.name;
        r.backend = backend_name;
        r.reference = entry.ref.to_string(backend_name);
        r.file = entry.file;
        named[entry.name] = true;

        const auto fail = [&](const Error& e) {
            r.status = Status::failed;
            r.error = e.message;
            r.transient = e.transient();
        };
        std::optional<Error> error;
        std::optional<SecretString> value;
        if (key_errors[i]) {
            error = Error(Errc::manifest, *key_errors[i]);
        } else if (run.setup_error) {
            fail(*run.setup_error);
            outcome.entries.push_back(std::move(r));
            continue; // reported once, above
        } else {
            const auto& slot = run.results[run.index_of(id_of(entry.ref))];
            if (!slot) {
                error = Error(Errc::timeout, str_cat("no answer within the ",
                                                     std::to_string(settings.timeout.count()),
                                                     " ms deadline (--timeout)"));
            } else if (!*slot) {
                error = slot->error();
            } else {
                r.source = (*slot)->source;
                r.version = (*slot)->version;
                auto shaped = shape_value(entry, (*slot)->value);
                if (shaped)
                    value = std::move(*shaped);
                else
                    error = shaped.error();
            }
        }

        if (value) {
            r.status = Status::ok;
            r.value = std::move(value);
        } else if (error->code == Errc::not_found && entry.default_value) {
            r.status = Status::defaulted;
            r.value = SecretString(*entry.default_value);
            r.source = "default";
            r.error = error->message;
        } else if (error->code == Errc::not_found && entry.optional) {
            r.status = Status::missing;
            r.error = error->message;
        } else {
            fail(*error);
            outcome.errors.push_back(with_context(*error, str_cat(entry.name, ": ", r.reference)));
        }
        outcome.entries.push_back(std::move(r));
    }

    // No manifest: every listed secret the entries did not name.
    for (auto& [name, run] : runs) {
        if (!run.everything || run.setup_error || !run.listed)
            continue;
        if (!*run.listed) {
            outcome.errors.push_back(with_context(run.listed->error(), name));
            continue;
        }
        for (auto& secret : **run.listed) {
            if (named.count(secret.name) != 0)
                continue;
            Resolution r;
            r.name = secret.name;
            r.backend = name;
            r.reference = str_cat(name, "://", secret.name);
            if (secret.secret.value.reveal().find('\0') != std::string_view::npos) {
                r.status = Status::failed;
                r.error = "the value contains a NUL byte, which an environment variable cannot hold";
                outcome.errors.push_back(Error(Errc::value, str_cat(secret.name, ": ", r.reference, ": ", r.error)));
            } else {
                r.status = Status::ok;
                r.value = std::move(secret.secret.value);
                r.source = std::move(secret.secret.source);
                r.version = std::move(secret.secret.version);
            }
            outcome.entries.push_back(std::move(r));
        }
    }
    std::sort(outcome.credential_variables.begin(), outcome.credential_variables.end());
    outcome.credential_variables.erase(
        std::unique(outcome.credential_variables.begin(), outcome.credential_variables.end()),
        outcome.credential_variables.end());
    return outcome;
}

} // namespace secrun::resolve
