// The only translation unit that sees Boost.Program_options.
#include "cli/options.hpp"

#include "manifest/manifest.hpp"
#include "util/strings.hpp"

#include <boost/program_options.hpp>

#include <charconv>
#include <sstream>

namespace secrun::cli {
namespace po = boost::program_options;
using util::str_cat;

namespace {

po::options_description describe()
{
    po::options_description general("Options");
    // clang-format off
    general.add_options()
        ("manifest,m", po::value<std::string>()->value_name("FILE"),
         "manifest of the variables to resolve [SECRETS_MANIFEST; default ./secrets.manifest when it exists]")
        ("backend,b", po::value<std::string>()->value_name("NAME"),
         "backend for references that name none: env, azure_keyvault, aws_secrets, doppler [SECRETS_BACKEND; default env]")
        ("env-file,e", po::value<std::vector<std::string>>()->value_name("FILE")->composing(),
         "dotenv file for the env backend, repeatable, later files win [SECRUN_ENV_FILE, ':'-separated; default env.local when it exists]")
        ("pristine", po::bool_switch(), "start the command with only the resolved variables, nothing inherited")
        ("preserve-env", po::value<std::vector<std::string>>()->value_name("NAME[,NAME...]")->composing(),
         "keep these inherited variables even when the manifest resolves them [SECRUN_PRESERVE_ENV]")
        ("no-env-references", po::bool_switch(),
         "do not resolve inherited variables whose value is a reference (NAME=aws_secrets://...)")
        ("scrub-credentials", po::bool_switch(),
         "remove from the command's environment the credentials secrun used (DOPPLER_TOKEN, AZURE_CLIENT_SECRET, AWS keys, ...)")
        ("init", po::bool_switch(),
         "stay as the command's parent (for PID 1 in a container): forward signals, reap zombies, exit with its status")
        ("timeout,t", po::value<std::string>()->value_name("DURATION"),
         "overall deadline for resolving, e.g. 30s, 500ms, 2m [SECRUN_TIMEOUT; default 30s]")
        ("connect-timeout", po::value<std::string>()->value_name("DURATION"),
         "deadline for one TCP connect [default 5s]")
        ("concurrency", po::value<unsigned>()->value_name("N"),
         "kept-alive connections per host [SECRUN_CONCURRENCY; default 16]")
        ("retries", po::value<unsigned>()->value_name("N"),
         "retries of a failed request (connection errors, 5xx, 429) [SECRUN_RETRIES; default 4]")
        ("ca-file", po::value<std::string>()->value_name("FILE"),
         "PEM file of extra trusted CAs [SECRUN_CA_FILE; SSL_CERT_FILE and SSL_CERT_DIR are honoured too]")
        ("cache", po::value<std::string>()->value_name("FILE"),
         "last known good: keep the resolved set encrypted in FILE; start from it when the backend is unreachable or failing [SECRUN_CACHE]")
        ("cache-max-age", po::value<std::string>()->value_name("DURATION"),
         "oldest cache that may be used, e.g. 1h, 7d [SECRUN_CACHE_MAX_AGE; default 24h]")
        ("aws-batch", po::bool_switch(),
         "AWS: fetch with BatchGetSecretValue (groups of 20; needs secretsmanager:BatchGetSecretValue)")
        ("verbose,v", po::value<std::vector<bool>>()->zero_tokens()->composing(),
         "more diagnostics on stderr (-vv for debug) [SECRUN_LOG_LEVEL=error|warn|info|debug]")
        ("quiet,q", po::bool_switch(), "errors only on stderr")
        ("help,h", po::bool_switch(), "show this help")
        ("version", po::bool_switch(), "show the version");
    // clang-format on
    return general;
}

// Splits argv into secrun's own arguments and the command: everything after
// "--", or from the first argument that is neither an option nor an option's
// value (as env(1) and sudo do).
struct Split {
    std::vector<std::string> own;
    std::vector<std::string> command;
};

Split split_argv(int argc, const char* const* argv, const po::options_description& desc)
{
    Split split;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg.front() != '-') {
            if (split.own.empty() && (arg == "check" || arg == "version" || arg == "help")) {
                split.own.emplace_back(arg);
                continue;
            }
            break; // the command starts here
        }
        split.own.emplace_back(arg);
        // Does this option take a value in the next argument?
        if (arg.find('=') != std::string_view::npos)
            continue;
        std::string name;
        if (arg.substr(0, 2) == "--")
            name = std::string(arg.substr(2));
        else if (arg.size() == 2)
            name = std::string(arg); // "-m FILE" (matched as "-m"); "-mFILE" carries its value
        const auto* option = name.empty() ? nullptr : desc.find_nothrow(name, false);
        if (option != nullptr && option->semantic()->max_tokens() > 0 &&
            option->semantic()->min_tokens() > 0 && i + 1 < argc) {
            split.own.emplace_back(argv[++i]);
        }
    }
    for (; i < argc; ++i)
        split.command.emplace_back(argv[i]);
    return split;
}

Result<unsigned> parse_count(std::string_view text, std::string_view what, unsigned min, unsigned max)
{
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
        return Error(Errc::usage, str_cat(what, ": expected a whole number from ", std::to_string(min),
                                          " to ", std::to_string(max), ", got ", util::quoted(text)));
    return value;
}

Result<std::string> check_backend(std::string_view name, std::string_view where)
{
    if (manifest::is_backend_name(name))
        return std::string(name);
    std::string message = str_cat(where, ": unknown backend ", util::quoted(name));
    for (auto known : manifest::backend_names)
        if (util::edit_distance(name, known) <= 2) {
            message += str_cat(" (did you mean ", util::quoted(known), "?)");
            break;
        }
    message += "; known backends: env, azure_keyvault, aws_secrets, doppler";
    return Error(Errc::usage, std::move(message));
}

} // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text)
{
    using namespace std::chrono;
    const auto trimmed = util::trim(text);
    std::size_t digits = 0;
    while (digits < trimmed.size() && trimmed[digits] >= '0' && trimmed[digits] <= '9')
        ++digits;
    const auto bad = [&] {
        return Error(Errc::usage, str_cat("invalid duration ", util::quoted(text),
                                          " (expected e.g. 500ms, 30s, 2m, 1h, 1d)"));
    };
    if (digits == 0 || digits > 9)
        return bad();
    std::uint64_t number = 0;
    std::from_chars(trimmed.data(), trimmed.data() + digits, number);
    const auto unit = trimmed.substr(digits);
    std::uint64_t factor = 0;
    if (unit == "ms")
        factor = 1;
    else if (unit.empty() || unit == "s")
        factor = 1000;
    else if (unit == "m")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else if (unit == "d")
        factor = 86'400'000;
    else
        return bad();
    return milliseconds(static_cast<milliseconds::rep>(number * factor));
}

std::string help_text()
{
    std::ostringstream out;
    out << "Usage: secrun [options] [--] COMMAND [ARG...]   resolve the manifest's secrets, then exec COMMAND\n"
           "       secrun check [options]                 resolve everything; print names and status, never values\n"
           "       secrun version\n\n"
        << describe()
        << "\nBackend configuration (read from the environment):\n"
           "  env             the process environment, then the dotenv files (--env-file, env.local)\n"
           "  azure_keyvault  AZURE_KEYVAULT_URL; AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or\n"
           "                  AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE, managed identity\n"
           "                  (IDENTITY_ENDPOINT/IDENTITY_HEADER, IMDS), or `az login`; AZURE_AUTHORITY_HOST\n"
           "  aws_secrets     AWS_REGION / AWS_DEFAULT_REGION; AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY\n"
           "                  [+ AWS_SESSION_TOKEN], AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, AWS_PROFILE\n"
           "                  (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), ECS and EC2 instance roles;\n"
           "                  AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL\n"
           "  doppler         DOPPLER_TOKEN [+ DOPPLER_PROJECT, DOPPLER_CONFIG], DOPPLER_API_HOST\n"
           "Network: HTTPS_PROXY / NO_PROXY, SSL_CERT_FILE / SSL_CERT_DIR.\n\n"
           "Manifest lines: NAME [= [backend://]key[?version=ID|stage=LABEL][#json.field]] [optional]\n"
           "                [default=VALUE] [file[=PATH]]\n"
           "Exit status: the command's own (with --init, 128+N when signal N killed it); 125 when\n"
           "secrun fails, 126 when COMMAND cannot be executed, 127 when it is not found.\n";
    return out.str();
}

Result<Options> parse(int argc, const char* const* argv, const EnvMap& env,
                      bool (*file_exists)(const char* path))
{
    const auto desc = describe();
    Split split = split_argv(argc, argv, desc);

    Options options;
    po::variables_map vm;
    int verbose_flags = 0; // -v, -vv, -v -v, --verbose: each occurrence counts
    try {
        po::positional_options_description positional;
        positional.add("subcommand", 1);
        po::options_description all = desc;
        all.add_options()("subcommand", po::value<std::string>());
        const po::parsed_options parsed =
            po::command_line_parser(split.own)
                .options(all)
                .positional(positional)
                .style(po::command_line_style::default_style &
                       ~po::command_line_style::allow_guessing)
                .run();
        // A zero-token option stores no value: its vector stays empty however
        // often it is given, so the occurrences are counted here.
        for (const auto& option : parsed.options)
            if (option.string_key == "verbose")
                ++verbose_flags;
        po::store(parsed, vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return Error(Errc::usage, str_cat(e.what(), " (see secrun --help)"));
    }

    if (vm.count("subcommand")) {
        const auto& sub = vm["subcommand"].as<std::string>();
        options.mode = sub == "check" ? Mode::check : sub == "version" ? Mode::version : Mode::help;
    }
    if (vm["help"].as<bool>())
        options.mode = Mode::help;
    if (vm["version"].as<bool>())
        options.mode = Mode::version;
    if (options.mode == Mode::help || options.mode == Mode::version)
        return options;

    options.command = std::move(split.command);
    if (options.mode == Mode::run && options.command.empty())
        return Error(Errc::usage, "no command given (usage: secrun [options] -- COMMAND [ARG...]; "
                                  "see secrun --help)");
    if (options.mode == Mode::check && !options.command.empty())
        return Error(Errc::usage, "secrun check takes no command");

    // Flag, then environment variable, then default.
    if (vm.count("backend")) {
        auto b = check_backend(vm["backend"].as<std::string>(), "--backend");
        if (!b)
            return b.error();
        options.backend = *b;
    } else if (auto v = env.get_nonempty("SECRETS_BACKEND")) {
        auto b = check_backend(*v, "SECRETS_BACKEND");
        if (!b)
            return b.error();
        options.backend = *b;
    }

    if (vm.count("manifest")) {
        options.manifest = vm["manifest"].as<std::string>();
        options.manifest_explicit = true;
    } else if (auto v = env.get_nonempty("SECRETS_MANIFEST")) {
        options.manifest = std::string(*v);
        options.manifest_explicit = true;
    } else if (file_exists("secrets.manifest")) {
        options.manifest = "secrets.manifest";
    }

    if (vm.count("env-file")) {
        options.env_files = vm["env-file"].as<std::vector<std::string>>();
        options.env_files_explicit = true;
    } else if (auto v = env.get_nonempty("SECRUN_ENV_FILE")) {
        for (auto part : util::split(*v, ':'))
            if (!part.empty())
                options.env_files.emplace_back(part);
        options.env_files_explicit = true;
    } else if (file_exists("env.local")) {
        options.env_files.emplace_back("env.local");
    }

    options.pristine = vm["pristine"].as<bool>();
    std::vector<std::string> preserve;
    if (vm.count("preserve-env"))
        preserve = vm["preserve-env"].as<std::vector<std::string>>();
    else if (auto v = env.get_nonempty("SECRUN_PRESERVE_ENV"))
        preserve.emplace_back(*v);
    for (const auto& group : preserve)
        for (auto name : util::split(group, ',')) {
            name = util::trim(name);
            if (!util::is_env_name(name))
                return Error(Errc::usage, str_cat("--preserve-env: ", util::quoted(name),
                                                  " is not a variable name"));
            options.preserve_env.emplace_back(name);
        }
    options.env_references = !vm["no-env-references"].as<bool>();
    options.scrub_credentials = vm["scrub-credentials"].as<bool>();
    options.aws_batch = vm["aws-batch"].as<bool>();
    options.init = vm["init"].as<bool>();

    const auto duration = [&](const char* flag, const char* variable,
                              std::chrono::milliseconds& into) -> Result<void> {
        std::string text;
        std::string where;
        if (vm.count(flag)) {
            text = vm[flag].as<std::string>();
            where = str_cat("--", flag);
        } else if (auto v = variable ? env.get_nonempty(variable) : std::nullopt) {
            text = std::string(*v);
            where = variable;
        } else {
            return {};
        }
        auto d = parse_duration(text);
        if (!d)
            return Error(Errc::usage, str_cat(where, ": ", d.error().message));
        if (d->count() == 0)
            return Error(Errc::usage, str_cat(where, ": must be more than 0"));
        into = *d;
        return {};
    };
    if (auto r = duration("timeout", "SECRUN_TIMEOUT", options.timeout); !r)
        return r.error();
    if (auto r = duration("connect-timeout", nullptr, options.connect_timeout); !r)
        return r.error();

    const auto count = [&](const char* flag, const char* variable, unsigned min, unsigned max,
                           unsigned& into) -> Result<void> {
        if (vm.count(flag)) {
            const unsigned value = vm[flag].as<unsigned>();
            if (value < min || value > max)
                return Error(Errc::usage, str_cat("--", flag, ": expected a whole number from ",
                                                  std::to_string(min), " to ", std::to_string(max)));
            into = value;
        } else if (auto v = env.get_nonempty(variable)) {
            auto n = parse_count(*v, variable, min, max);
            if (!n)
                return n.error();
            into = *n;
        }
        return {};
    };
    if (auto r = count("concurrency", "SECRUN_CONCURRENCY", 1, 256, options.concurrency); !r)
        return r.error();
    if (auto r = count("retries", "SECRUN_RETRIES", 0, 20, options.retries); !r)
        return r.error();

    if (vm.count("cache"))
        options.cache_file = vm["cache"].as<std::string>();
    else if (auto v = env.get_nonempty("SECRUN_CACHE"))
        options.cache_file = std::string(*v);
    std::chrono::milliseconds max_age = options.cache_max_age;
    if (auto r = duration("cache-max-age", "SECRUN_CACHE_MAX_AGE", max_age); !r)
        return r.error();
    options.cache_max_age = std::chrono::duration_cast<std::chrono::seconds>(max_age);

    if (vm.count("ca-file"))
        options.ca_file = vm["ca-file"].as<std::string>();
    else if (auto v = env.get_nonempty("SECRUN_CA_FILE"))
        options.ca_file = std::string(*v);

    if (verbose_flags > 0)
        options.verbosity = verbose_flags;
    else if (vm["quiet"].as<bool>())
        options.verbosity = -1;
    else if (auto v = env.get_nonempty("SECRUN_LOG_LEVEL")) {
        if (*v == "error")
            options.verbosity = -1;
        else if (*v == "warn" || *v == "warning")
            options.verbosity = 0;
        else if (*v == "info")
            options.verbosity = 1;
        else if (*v == "debug")
            options.verbosity = 2;
        else
            return Error(Errc::usage, str_cat("SECRUN_LOG_LEVEL: expected error, warn, info or debug, got ",
                                              util::quoted(*v)));
    }
    if (vm["quiet"].as<bool>() && verbose_flags > 0)
        return Error(Errc::usage, "-q and -v contradict each other");
    return options;
}

} // namespace secrun::cli
