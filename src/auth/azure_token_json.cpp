// Helpers shared by the Azure token sources: token answers, error bodies,
// credential files.
#include "auth/azure_sources.hpp"
#include "auth/iso8601.hpp"

#include "auth/wiped_json.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace secrun::auth::azure {
namespace json = boost::json;
using util::str_cat;

namespace {

// A non-negative integer given as a JSON number or a string of digits (IMDS
// and App Service send every number as a string).
std::optional<std::int64_t> json_seconds(const json::object& object, std::string_view key)
{
    const auto* value = object.if_contains(key);
    if (value == nullptr)
        return std::nullopt;
    if (const auto* n = value->if_int64(); n != nullptr && *n >= 0)
        return *n;
    if (const auto* n = value->if_uint64(); n != nullptr && *n <= INT64_MAX)
        return static_cast<std::int64_t>(*n);
    if (const auto* s = value->if_string(); s != nullptr && !s->empty()) {
        std::int64_t out = 0;
        const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
        if (ec == std::errc{} && end == s->data() + s->size() && out >= 0)
            return out;
    }
    return std::nullopt;
}

std::string_view string_field(const json::object& object, std::string_view key)
{
    const auto* value = object.if_contains(key);
    if (value == nullptr || !value->is_string())
        return {};
    const auto& s = value->get_string();
    return std::string_view(s.data(), s.size());
}

} // namespace

std::string resource_from_scope(std::string_view scope)
{
    constexpr std::string_view suffix = "/.default";
    if (scope.size() > suffix.size() && scope.substr(scope.size() - suffix.size()) == suffix)
        scope.remove_suffix(suffix.size());
    return std::string(scope);
}

bool is_header_safe(std::string_view token) noexcept
{
    if (token.empty())
        return false;
    for (const char c : token) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return false;
    }
    return true;
}

bool is_tenant_id(std::string_view tenant) noexcept
{
    if (tenant.empty() || tenant.size() > 256)
        return false;
    for (const char c : tenant) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

Result<AzureToken> parse_token_response(std::string_view body,
                                        std::chrono::system_clock::time_point now,
                                        std::string_view who)
{
    const auto bad = [&](std::string_view why) {
        return Error(Errc::bad_response, str_cat(who, " answered ", why));
    };
    const auto doc = parse_json_wiped(body);
    if (!doc || !doc->is_object())
        return bad("something that is not a JSON object");
    const auto& object = doc->get_object();
    const std::string_view token = string_field(object, "access_token");
    if (token.empty())
        return bad("without an access_token");
    if (!is_header_safe(token))
        return bad("an access_token that cannot go in an HTTP header");

    AzureToken out;
    std::optional<std::chrono::system_clock::time_point> expires;
    if (const auto on = json_seconds(object, "expires_on"))
        expires = from_epoch_seconds(*on);
    else if (const auto in = json_seconds(object, "expires_in"))
        expires = seconds_after(now, *in);
    if (!expires)
        return bad("without a usable expires_in or expires_on");
    out.expires_on = *expires;
    out.access_token = SecretString(token);
    return out;
}

std::string first_line(std::string_view text, std::size_t max)
{
    text = util::trim(text);
    if (const auto end = text.find_first_of("\r\n"); end != std::string_view::npos)
        text = util::trim(text.substr(0, end));
    std::string out;
    for (const char c : text) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    }
    return out;
}

std::string describe_error_body(std::string_view body)
{
    constexpr std::size_t max = 300;
    boost::system::error_code ec;
    const json::value doc = json::parse(body, ec);
    if (ec || !doc.is_object())
        return {};
    const auto& object = doc.get_object();
    std::string_view code;
    std::string_view text;
    if (const auto* error = object.if_contains("error"); error != nullptr && error->is_object()) {
        code = string_field(error->get_object(), "code");
        text = string_field(error->get_object(), "message");
    } else {
        code = string_field(object, "error");
        text = string_field(object, "error_description");
        if (text.empty())
            text = string_field(object, "message");
    }
    std::string out = first_line(code, 100);
    const std::string detail = first_line(text, max);
    if (!out.empty() && !detail.empty())
        out += ": ";
    out += detail;
    return out;
}

Result<SecretString> read_credential_file(std::string_view path, std::string_view variable,
                                          std::size_t limit)
{
    const std::string file(path);
    const auto fail = [&](std::string_view why) {
        return Error(Errc::config,
                     str_cat("cannot read ", variable, " ", util::quoted(path), ": ", why));
    };
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail("not a regular file");
    }
    std::string contents;
    contents.resize(limit + 1);
    std::size_t used = 0;
    for (;;) {
        const ssize_t n = ::read(fd, contents.data() + used, contents.size() - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int saved = errno;
            ::close(fd);
            cleanse(contents);
            return fail(std::strerror(saved));
        }
        if (n == 0)
            break;
        used += static_cast<std::size_t>(n);
        if (used > limit) {
            ::close(fd);
            cleanse(contents);
            return fail(str_cat("larger than ", std::to_string(limit), " bytes"));
        }
    }
    ::close(fd);
    contents.resize(used);
    return SecretString(std::move(contents));
}

} // namespace secrun::auth::azure
