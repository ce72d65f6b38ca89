#include "app.hpp"

#include "cache/last_known_good.hpp"
#include "cli/options.hpp"
#include "exec/environment.hpp"
#include "exec/file_writer.hpp"
#include "exec/init.hpp"
#include "https/beast_client.hpp"
#include "log.hpp"
#include "manifest/manifest.hpp"
#include "resolve/resolver.hpp"
#include "secret.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SECRUN_VERSION
#define SECRUN_VERSION "0.0.0"
#endif

namespace secrun::app {
namespace {

using util::str_cat;

constexpr std::size_t max_manifest_size = 1 << 20;

bool file_exists(const char* path)
{
    struct stat st {};
    return ::stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

// Prints every error, one line each ("secrun: error: ..."); a message may
// hold several lines (a backend that failed for more than one reason).
void report(const Errors& errors)
{
    for (const auto& e : errors)
        for (auto line : util::split(e.message, '\n'))
            log::error(line);
}

Result<std::string> read_manifest(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return Error(Errc::config, str_cat("manifest ", path, ": ", std::strerror(errno)));
    std::string text;
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            return Error(Errc::config, str_cat("manifest ", path, ": ", std::strerror(err)));
        }
        if (n == 0)
            break;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > max_manifest_size) {
            ::close(fd);
            return Error(Errc::config, str_cat("manifest ", path, ": larger than 1 MiB"));
        }
    }
    ::close(fd);
    return text;
}

// The manifest's entries, then the environment references it does not
// override. A manifest entry that takes NAME from the environment (the env
// backend, key NAME) while the environment holds a reference for NAME
// resolves that reference, keeping the entry's options: the environment
// itself says where the value is.
Result<resolve::Plan> make_plan(const cli::Options& options, const EnvMap& env, Errors& errors)
{
    resolve::Plan plan;
    if (!options.manifest.empty()) {
        auto text = read_manifest(options.manifest);
        if (!text)
            return text.error();
        auto parsed = manifest::parse(*text, options.manifest, errors);
        plan.entries = std::move(parsed.entries);
    }
    if (options.env_references) {
        auto from_env = manifest::entries_from_environment(env, errors);
        for (auto& reference : from_env) {
            bool taken = false;
            for (auto& entry : plan.entries) {
                if (entry.name != reference.name)
                    continue;
                taken = true;
                const auto& backend = entry.ref.backend.empty() ? options.backend : entry.ref.backend;
                if (backend == "env" && entry.ref.key == entry.name && entry.ref.options.empty()) {
                    std::string field = entry.ref.field;
                    entry.ref = reference.ref;
                    if (!field.empty())
                        entry.ref.field = field;
                }
            }
            if (!taken)
                plan.entries.push_back(std::move(reference));
        }
    }
    if (options.manifest.empty()) {
        if (options.backend == "env" || options.backend == "doppler")
            plan.everything = true;
        else if (plan.entries.empty())
            return Error(Errc::config,
                         str_cat("the ", options.backend, " backend needs a manifest (--manifest, "
                                 "SECRETS_MANIFEST or ./secrets.manifest) or environment references "
                                 "(NAME=", options.backend, "://key)"));
    }
    return plan;
}

std::string_view status_text(const resolve::Resolution& r)
{
    switch (r.status) {
    case resolve::Status::ok:
        return "ok";
    case resolve::Status::defaulted:
        return "default";
    case resolve::Status::missing:
        return "missing";
    case resolve::Status::failed:
        return "error";
    }
    return "?";
}

// `secrun check`: one row per variable, never a value.
void print_table(const std::vector<resolve::Resolution>& rows)
{
    std::vector<std::array<std::string, 5>> cells;
    cells.push_back({"NAME", "BACKEND", "KEY", "SOURCE", "STATUS"});
    for (const auto& r : rows) {
        std::string status(status_text(r));
        if (r.status == resolve::Status::failed)
            status = str_cat("error: ", r.error);
        std::string source = r.source;
        if (!r.version.empty())
            source += str_cat(" (version ", r.version, ")");
        if (r.file.enabled)
            source += r.file.path.empty() ? " -> file" : str_cat(" -> ", r.file.path);
        cells.push_back({r.name, r.backend, r.reference, source.empty() ? "-" : source, status});
    }
    std::array<std::size_t, 4> width{};
    for (const auto& row : cells)
        for (std::size_t c = 0; c < width.size(); ++c)
            width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (const auto& row : cells) {
        for (std::size_t c = 0; c < width.size(); ++c) {
            out += row[c];
            out.append(width[c] - row[c].size() + 2, ' ');
        }
        out += row[4];
        out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

// What the run asked for, canonically: a cache written for another manifest
// (or backend, or set of options) must not be used.
std::string describe_plan(const resolve::Plan& plan, const cli::Options& options)
{
    std::string text = str_cat("backend=", options.backend, "\n");
    if (plan.everything)
        text += "everything\n";
    for (const auto& e : plan.entries) {
        text += str_cat(e.name, "\t", e.ref.to_string(options.backend), "\t",
                        e.optional ? "optional" : "required", "\t",
                        e.default_value ? str_cat("default=", *e.default_value) : "", "\t",
                        e.file.enabled ? str_cat("file=", e.file.path) : "", "\n");
    }
    return text;
}

// Last known good (--cache). After a successful run the resolved set is
// stored; after a run whose every failure is transient (unreachable, timed
// out, 5xx, 429 after retries — never 401/403/404) it is loaded instead.
void store_cache(const cli::Options& options, const EnvMap& env, const std::string& fingerprint,
                 const resolve::Outcome& outcome)
{
    auto key = cache::cache_key(env);
    if (!key) {
        log::warn(str_cat("not writing the cache: ", key.error().message));
        return;
    }
    std::vector<cache::CachedEntry> entries;
    for (const auto& r : outcome.entries)
        if (r.value)
            entries.push_back({r.name, *r.value, r.backend, r.source, r.version});
    if (auto stored = cache::store(options.cache_file, *key, fingerprint, entries,
                                   std::chrono::system_clock::now());
        !stored)
        log::warn(str_cat("not writing the cache: ", stored.error().message));
}

bool start_from_cache(const cli::Options& options, const EnvMap& env, const std::string& fingerprint,
                      const resolve::Plan& plan, resolve::Outcome& outcome)
{
    const bool all_transient =
        std::all_of(outcome.errors.begin(), outcome.errors.end(), [](const Error& e) { return e.transient(); });
    if (!all_transient) {
        log::info("not using the cache: a failure says access was refused or the secret is gone");
        return false;
    }
    auto key = cache::cache_key(env);
    if (!key) {
        log::warn(str_cat("cannot use the cache: ", key.error().message));
        return false;
    }
    auto loaded = cache::load(options.cache_file, *key, fingerprint, options.cache_max_age,
                              std::chrono::system_clock::now());
    if (!loaded) {
        log::warn(str_cat("cannot use the cache: ", loaded.error().message));
        return false;
    }
    std::vector<resolve::Resolution> entries;
    for (auto& cached : loaded->entries) {
        resolve::Resolution r;
        r.name = cached.name;
        r.backend = cached.backend;
        r.status = resolve::Status::ok;
        r.value = std::move(cached.value);
        r.source = str_cat(cached.source, " (cache)");
        r.version = cached.version;
        for (const auto& e : plan.entries)
            if (e.name == r.name) {
                r.reference = e.ref.to_string(options.backend);
                r.file = e.file;
            }
        entries.push_back(std::move(r));
    }
    report(outcome.errors);
    log::warn(str_cat("the backend is unavailable; starting from the cache ", options.cache_file,
                      ", written ", cache::format_age(loaded->age), " ago"));
    outcome.entries = std::move(entries);
    outcome.errors.clear();
    return true;
}

} // namespace

int run(int argc, const char* const* argv, const char* const* envp, const exec::SignalState& signals)
{
    // 1. The command line and the environment, flag > variable > default.
    const EnvMap env = EnvMap::from_environ(envp);
    auto parsed = cli::parse(argc, argv, env, &file_exists);
    if (!parsed) {
        log::error(parsed.error().message);
        return 125;
    }
    const cli::Options& options = *parsed;
    if (options.mode == cli::Mode::help) {
        std::cout << cli::help_text() << std::flush;
        return 0;
    }
    if (options.mode == cli::Mode::version) {
        std::cout << "secrun " SECRUN_VERSION "\n" << std::flush;
        return 0;
    }
    log::set_level(options.verbosity < 0    ? log::Level::error
                   : options.verbosity == 0 ? log::Level::warn
                   : options.verbosity == 1 ? log::Level::info
                                            : log::Level::debug);

    // 2. The manifest and environment references: every error, then stop once.
    Errors errors;
    auto plan = make_plan(options, env, errors);
    if (!plan)
        errors.insert(errors.begin(), plan.error());
    if (!errors.empty()) {
        report(errors);
        return 125;
    }

    // 3. From here on secrun holds values: no core dumps, no ptrace, no
    //    /proc/PID/environ for other users.
    if (auto r = exec::disable_dumping(); !r) {
        log::error(r.error().message);
        return 125;
    }

    // 4. Resolve everything concurrently. When this returns, every socket and
    //    the event loop are gone (they are not close-on-exec).
    resolve::Settings settings;
    settings.default_backend = options.backend;
    settings.timeout = options.timeout;
    settings.http.ca_file = options.ca_file;
    settings.http.concurrency = options.concurrency;
    settings.http.retries = options.retries;
    settings.http.connect_timeout = options.connect_timeout;
    settings.http.request_timeout = std::min(options.timeout, std::chrono::milliseconds(10000));
    settings.env_files = options.env_files;
    settings.env_files_explicit = options.env_files_explicit;
    settings.aws_batch = options.aws_batch;
    resolve::Outcome outcome = resolve::resolve_all(
        *plan, settings, env, [&env](boost::asio::io_context& ioc, const https::ClientOptions& o) {
            return https::make_client(ioc, o, env);
        });
    log::debug(str_cat("requests ", std::to_string(outcome.stats.requests), ", connections ",
                       std::to_string(outcome.stats.connections), ", TLS handshakes ",
                       std::to_string(outcome.stats.handshakes), ", retries ",
                       std::to_string(outcome.stats.retries)));

    if (options.mode == cli::Mode::check) {
        print_table(outcome.entries);
        report(outcome.errors);
        return outcome.errors.empty() ? 0 : 1;
    }

    // 5. All or nothing: any failure stops the start, and the command never
    //    runs — unless every failure is transient and a recent enough cache
    //    of the same manifest exists (--cache).
    if (!options.cache_file.empty()) {
        const auto fingerprint = cache::manifest_fingerprint(describe_plan(*plan, options));
        if (outcome.errors.empty())
            store_cache(options, env, fingerprint, outcome);
        else
            start_from_cache(options, env, fingerprint, *plan, outcome);
    }
    if (!outcome.errors.empty()) {
        report(outcome.errors);
        // One error may fail many variables (a backend that could not start),
        // and without a manifest none may be named yet (the listing failed).
        const auto failed = std::count_if(
            outcome.entries.begin(), outcome.entries.end(),
            [](const resolve::Resolution& r) { return r.status == resolve::Status::failed; });
        const std::string why =
            failed > 0 ? str_cat(std::to_string(failed), " of ",
                                 std::to_string(outcome.entries.size()), " variables failed")
                       : str_cat("the secrets of the ", options.backend,
                                 " backend could not be fetched");
        log::error(str_cat("not starting ", util::quoted(options.command.front()), ": ", why));
        return 125;
    }
    for (const auto& r : outcome.entries)
        if (r.status == resolve::Status::missing)
            log::info(str_cat(r.name, ": optional, left unset (", r.error, ")"));

    // 6. File entries: the value goes to a 0400 file, the variable holds its path.
    exec::FileSet files(exec::private_dir_bases(env));
    std::vector<SecretString> paths; // kept alive for ResolvedVar references
    paths.reserve(outcome.entries.size());
    std::vector<exec::ResolvedVar> vars;
    vars.reserve(outcome.entries.size());
    for (const auto& r : outcome.entries) {
        if (!r.value)
            continue;
        if (r.file.enabled) {
            auto path = files.write(r.name, *r.value, r.file.path);
            if (!path) {
                log::error(path.error().message);
                return 125; // `files` removes what it wrote
            }
            paths.emplace_back(std::move(*path));
            vars.push_back({r.name, paths.back()});
        } else {
            vars.push_back({r.name, *r.value});
        }
    }

    // 7. The command's environment, as a pure function of what we have.
    exec::EnvPolicy policy;
    policy.pristine = options.pristine;
    policy.preserve = options.preserve_env;
    if (options.scrub_credentials)
        policy.scrub = outcome.credential_variables;
    auto environment = exec::build_environment(env, vars, policy);
    if (!environment) {
        log::error(environment.error().message);
        return 125;
    }
    log::info(str_cat("resolved ", std::to_string(vars.size()), " variables; starting ",
                      util::quoted(options.command.front())));

    // 8. Become the command. Only returns on failure (126/127); then `files`
    //    removes what it wrote and every value is wiped on the way out.
    if (!options.init) {
        Error failed = exec::exec_command(options.command, *environment, signals);
        log::error(failed.message);
        return exit_code_for(failed.code);
    }

    // 8'. --init: secrun stays behind as the command's parent for as long as
    //     it runs, so it keeps no value. Every copy but `environment` is wiped
    //     now (SecretString wipes itself when destroyed); run_as_init wipes
    //     that one right after the fork. What remains is the environment
    //     secrun itself was started with (`env`, and the process's own).
    vars.clear();
    paths.clear();
    for (auto& r : outcome.entries)
        r.value.reset();
    for (auto& entry : plan->entries) // the manifest's default= values
        if (entry.default_value)
            cleanse(*entry.default_value);
    auto status = exec::run_as_init(options.command, std::move(*environment), signals);
    // The command ran: its files stay, as they do after an exec. So they do
    // after an internal error (fork or supervising failed), when the command
    // may still be running. When nothing was started (not found, not
    // executable), `files` removes them.
    if (status || status.error().code == Errc::internal)
        files.release();
    if (!status) {
        log::error(status.error().message);
        return exit_code_for(status.error().code);
    }
    return *status;
}

} // namespace secrun::app
