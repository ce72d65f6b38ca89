// The Azure CLI as a token source: `az account get-access-token`, run with a
// time and output bound, for developers who ran `az login`.
#include "auth/azure_sources.hpp"
#include "auth/iso8601.hpp"

#include "auth/wiped_json.hpp"
#include "util/strings.hpp"
#include "util/subprocess.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <ctime>
#include <unistd.h>

namespace secrun::auth::azure {
namespace asio = boost::asio;
namespace json = boost::json;
using util::str_cat;

namespace {

constexpr std::string_view source = "Azure CLI";
constexpr std::size_t output_limit = 64 * 1024;

bool on_path(std::string_view program, const EnvMap& env)
{
    for (const auto dir : util::split(env.get("PATH").value_or("/usr/bin:/bin"), ':')) {
        const std::string candidate = str_cat(dir.empty() ? "." : dir, "/", program);
        if (::access(candidate.c_str(), X_OK) == 0)
            return true;
    }
    return false;
}

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out)
{
    if (at + count > text.size())
        return false;
    const char* first = text.data() + at;
    const auto [end, ec] = std::from_chars(first, first + count, out);
    return ec == std::errc{} && end == first + count;
}

// `expiresOn`: "2024-05-01 13:45:10.123456" in local time (what every CLI
// version prints), or the same with 'T' and a zone ("...Z", "...+02:00").
std::optional<std::chrono::system_clock::time_point> parse_expires_on(std::string_view text)
{
    std::tm tm{};
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') ||
        text[13] != ':' || text[16] != ':' || !digits(text, 0, 4, year) ||
        !digits(text, 5, 2, month) || !digits(text, 8, 2, day) || !digits(text, 11, 2, hour) ||
        !digits(text, 14, 2, minute) || !digits(text, 17, 2, second))
        return std::nullopt;
    std::string_view rest = text.substr(19);
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        const auto end = rest.find_first_not_of("0123456789");
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    std::time_t when = 0;
    if (rest.empty()) {
        tm.tm_isdst = -1;
        when = std::mktime(&tm);
    } else {
        int offset = 0;
        if (rest != "Z" && rest != "z") {
            int hours = 0, minutes = 0;
            const bool colon = rest.size() == 6 && rest[3] == ':';
            if ((rest.size() != 5 && !colon) || (rest[0] != '+' && rest[0] != '-') ||
                !digits(rest, 1, 2, hours) || !digits(rest, colon ? 4 : 3, 2, minutes))
                return std::nullopt;
            offset = (hours * 60 + minutes) * 60 * (rest[0] == '-' ? -1 : 1);
        }
        when = ::timegm(&tm) - offset;
    }
    if (when == static_cast<std::time_t>(-1))
        return std::nullopt;
    return from_epoch_seconds(when);
}

} // namespace

Result<AzureToken> parse_cli_output(std::string_view out)
{
    const auto bad = [](std::string_view why) {
        return Error(Errc::bad_response,
                     str_cat(source, ": unexpected output from 'az account get-access-token' (", why,
                             ")"));
    };
    const auto doc = parse_json_wiped(out);
    if (!doc || !doc->is_object())
        return bad("not a JSON object");
    const auto& object = doc->get_object();
    const auto* token = object.if_contains("accessToken");
    if (token == nullptr || !token->is_string() || token->get_string().empty())
        return bad("no accessToken");
    const std::string_view value(token->get_string().data(), token->get_string().size());
    if (!is_header_safe(value))
        return bad("an accessToken that cannot go in an HTTP header");

    AzureToken result;
    // expires_on (epoch seconds) is exact; newer CLIs print it, 2.45 does not.
    if (const auto* on = object.if_contains("expires_on"); on != nullptr) {
        std::int64_t seconds = -1;
        if (const auto* n = on->if_int64())
            seconds = *n;
        else if (const auto* s = on->if_string()) {
            const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), seconds);
            if (ec != std::errc{} || end != s->data() + s->size())
                seconds = -1;
        }
        const auto when = seconds < 0 ? std::nullopt : from_epoch_seconds(seconds);
        if (!when)
            return bad("expires_on is not a number of seconds");
        result.expires_on = *when;
    } else if (const auto* text = object.if_contains("expiresOn"); text != nullptr && text->is_string()) {
        const auto when =
            parse_expires_on(std::string_view(text->get_string().data(), text->get_string().size()));
        if (!when)
            return bad("expiresOn is not a date and time");
        result.expires_on = *when;
    } else {
        return bad("no expires_on or expiresOn");
    }
    result.access_token = SecretString(value);
    return result;
}


asio::awaitable<Outcome> azure_cli_credential(SourceContext ctx, AzureTokenRequest request)
{
    const EnvMap& env = *ctx.env;
    if (!on_path("az", env))
        co_return Unavailable{"'az' not found in PATH"};

    std::vector<std::string> argv = {"az",     "account",    "get-access-token",
                                     "--output", "json",     "--resource",
                                     resource_from_scope(request.scope)};
    if (!request.tenant.empty()) {
        argv.emplace_back("--tenant");
        argv.push_back(request.tenant);
    }
    EnvMap child_env = env;
    child_env.set("AZURE_CORE_NO_COLOR", "true");
    const util::SubprocessLimits limits{ctx.options.cli_timeout, output_limit};
    auto ran = co_await util::run_subprocess(std::move(argv), std::move(child_env), limits);
    if (!ran)
        co_return with_context(ran.error(), source);

    if (ran->exit_code != 0) {
        const std::string_view err = ran->err;
        if (ran->exit_code == 127)
            co_return Unavailable{"'az' could not be run (exit 127)"};
        // "Please run 'az login' to setup account." and the like.
        if (err.find("az login") != std::string_view::npos ||
            err.find("az account set") != std::string_view::npos)
            co_return Unavailable{request.tenant.empty()
                                      ? std::string("not logged in; run 'az login'")
                                      : str_cat("not logged in to tenant ", util::quoted(request.tenant),
                                                "; run 'az login --tenant ", request.tenant, "'")};
        // Show what az said (never stdout, which may hold a token).
        std::string said = first_line(err, 200);
        if (said.find("accessToken") != std::string::npos)
            said.clear();
        co_return Error(Errc::auth, str_cat(source, ": 'az account get-access-token' failed (exit ",
                                            std::to_string(ran->exit_code), ")",
                                            said.empty() ? "" : ": ", said));
    }
    auto token = parse_cli_output(ran->out);
    if (!token)
        co_return token.error();
    token->tenant = request.tenant;
    co_return Acquired{std::move(*token), std::string(source), {}};
}

} // namespace secrun::auth::azure
