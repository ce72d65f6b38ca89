// Doppler: GET {DOPPLER_API_HOST}/v3/configs/config/secrets/download?format=json
// (protocols/azure_doppler.md §4). The whole config arrives in one call, as a
// flat JSON object of names to computed values; it includes Doppler's own
// DOPPLER_PROJECT, DOPPLER_CONFIG and DOPPLER_ENVIRONMENT, which name the
// config (used in messages) and are not injected by fetch_all().
#include "backends/doppler_backend.hpp"

#include "https/client.hpp"
#include "util/strings.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <cstddef>
#include <new>
#include <optional>

namespace secrun::backends
{
namespace
{

namespace json = boost::json;
using util::quoted;
using util::str_cat;

constexpr std::string_view default_api_host = "https://api.doppler.com";
constexpr std::string_view download_path = "/v3/configs/config/secrets/download";
constexpr std::string_view metadata_keys[] = {"DOPPLER_PROJECT", "DOPPLER_CONFIG",
                                              "DOPPLER_ENVIRONMENT"};
// Server messages are quoted in errors; this bounds what a server can make us print.
constexpr std::size_t max_server_message = 300;

bool is_metadata_key(std::string_view name)
{
    for (std::string_view key : metadata_keys)
        if (name == key)
            return true;
    return false;
}

bool is_service_token(std::string_view token)
{
    return token.rfind("dp.st.", 0) == 0;
}

// Project and config names as Doppler allows them (letters, digits, - and _),
// short enough for a message; anything else from a server is not echoed.
bool is_plain_name(std::string_view name)
{
    if (name.empty() || name.size() > 100)
        return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
            return false;
    return true;
}

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string query_encode(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    return out;
}

// The parsed download holds secret values: every block the parser and the
// value free is wiped first. Boost.JSON 1.81 may free a block with another
// alignment than it asked for (ASan: new-delete-type-mismatch), so ordinary
// alignments all use the plain operator new/delete.
class WipingResource final : public json::memory_resource
{
    static constexpr std::size_t plain = alignof(std::max_align_t);

    void* do_allocate(std::size_t bytes, std::size_t align) override
    {
        return align <= plain ? ::operator new(bytes)
                              : ::operator new(bytes, std::align_val_t(align));
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override
    {
        cleanse(p, bytes);
        if (align <= plain)
            ::operator delete(p);
        else
            ::operator delete(p, std::align_val_t(align));
    }
    bool do_is_equal(const json::memory_resource& other) const noexcept override
    {
        return this == &other;
    }
};

class DopplerBackend final : public Backend
{
public:
    DopplerBackend(https::Client& http, https::Url url, std::string token, std::string where)
        : http_(http), url_(std::move(url)), token_(std::move(token)), where_(std::move(where))
    {
    }
    DopplerBackend(const DopplerBackend&) = delete;
    DopplerBackend& operator=(const DopplerBackend&) = delete;
    ~DopplerBackend() override { cleanse(token_); }

    [[nodiscard]] std::string_view name() const noexcept override { return "doppler"; }

    boost::asio::awaitable<Result<void>> prepare(std::vector<SecretId>) override
    {
        co_return co_await download_once();
    }

    boost::asio::awaitable<Result<Fetched>> fetch(SecretId id) override
    {
        if (!id.version.empty() || !id.stage.empty())
            co_return Error(Errc::config, str_cat("Doppler secrets have no versions or stages (",
                                                  quoted(id.key), ")"));
        const Result<void> ready = co_await download_once();
        if (!ready)
            co_return ready.error();
        const auto it = secrets_.find(id.key);
        if (it == secrets_.end())
            co_return Error(Errc::not_found,
                            str_cat("no secret ", quoted(id.key), " in Doppler ", where_));
        co_return Fetched{it->second, "", where_};
    }

    boost::asio::awaitable<Result<std::vector<NamedSecret>>> fetch_all() override
    {
        const Result<void> ready = co_await download_once();
        if (!ready)
            co_return ready.error();
        std::vector<NamedSecret> all;
        for (const auto& [name, value] : secrets_)
            if (!is_metadata_key(name))
                all.push_back({name, Fetched{value, "", where_}});
        co_return all;
    }

    [[nodiscard]] std::vector<std::string> credential_variables() const override
    {
        return {"DOPPLER_TOKEN"};
    }

private:
    boost::asio::awaitable<Result<void>> download_once()
    {
        if (!outcome_)
            outcome_ = co_await download();
        co_return *outcome_;
    }

    boost::asio::awaitable<Result<void>> download()
    {
        https::Request request;
        request.method = "GET";
        request.url = url_;
        request.headers = {{"Authorization", str_cat("Bearer ", token_)},
                           {"Accept", "application/json"}};
        request.what = "Doppler download";
        Result<https::Response> sent = co_await http_.send(std::move(request));
        if (!sent)
            co_return with_context(std::move(sent.error()), "Doppler");
        const https::Response& response = *sent;
        if (response.status != 200)
            co_return status_error(response);
        co_return parse_download(response.body);
    }

    Error status_error(const https::Response& response) const
    {
        const std::string code = std::to_string(response.status);
        const std::string details = server_messages(response.body);
        const std::string http = str_cat("(HTTP ", code, details.empty() ? "" : ": ", details, ")");
        switch (response.status) {
        case 401:
            return {Errc::auth, str_cat("Doppler rejected DOPPLER_TOKEN for ", where_, " ", http)};
        case 403:
            return {Errc::auth, str_cat("Doppler denied access to ", where_, " ", http)};
        case 404:
            return {Errc::config, str_cat("Doppler could not find ", where_, " ", http)};
        case 429:
            return {Errc::unavailable,
                    str_cat("Doppler is throttling requests for ", where_, " ", http)};
        default:
            break;
        }
        if (response.status >= 500)
            return {Errc::unavailable, str_cat("Doppler is unavailable for ", where_, " ", http)};
        if (response.status >= 400)
            return {Errc::config, str_cat("Doppler refused the download of ", where_, " ", http)};
        return {Errc::bad_response, str_cat("Doppler answered HTTP ", code, " for ", where_)};
    }

    // Doppler's {"messages":[...],"success":false}, joined, cleaned and bounded.
    std::string server_messages(std::string_view body) const
    {
        boost::system::error_code ec;
        json::parser parser;
        parser.write(body.data(), body.size(), ec);
        if (ec)
            return {};
        const json::value value = parser.release();
        const json::value* messages =
            value.is_object() ? value.get_object().if_contains("messages") : nullptr;
        if (!messages || !messages->is_array())
            return {};
        std::string joined;
        for (const json::value& m : messages->get_array()) {
            if (!m.is_string())
                continue;
            if (!joined.empty())
                joined += "; ";
            joined += std::string_view(m.get_string());
        }
        // A server echoing the credential must not put it into our output.
        for (auto at = joined.find(token_); !token_.empty() && at != std::string::npos;
             at = joined.find(token_))
            joined.replace(at, token_.size(), "[token]");
        for (char& c : joined)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                c = ' ';
        if (joined.size() > max_server_message)
            joined = str_cat(std::string_view(joined).substr(0, max_server_message), "...");
        return joined;
    }

    Result<void> parse_download(std::string_view body)
    {
        WipingResource wiping;
        boost::system::error_code ec;
        json::value value;
        {
            json::parser parser{json::storage_ptr(&wiping)}; // its scratch space is wiped too
            parser.reset(json::storage_ptr(&wiping));
            parser.write(body.data(), body.size(), ec);
            if (!ec)
                value = parser.release();
        }
        if (ec)
            return Error(Errc::bad_response, str_cat("Doppler returned invalid JSON for ", where_,
                                                     " (", ec.message(), ")"));
        if (!value.is_object())
            return Error(Errc::bad_response,
                         str_cat("Doppler returned JSON that is not an object for ", where_));
        SecretMap secrets;
        std::string project;
        std::string config;
        for (const auto& entry : value.get_object()) {
            if (!entry.value().is_string())
                return Error(Errc::bad_response,
                             str_cat("Doppler returned a value that is not a string for ",
                                     quoted(entry.key()), " in ", where_));
            const std::string_view text = entry.value().get_string();
            if (entry.key() == "DOPPLER_PROJECT")
                project = text;
            else if (entry.key() == "DOPPLER_CONFIG")
                config = text;
            secrets.insert_or_assign(std::string(entry.key()), SecretString(text));
        }
        // A service token's download names its config: say which in messages.
        if (is_plain_name(project) && is_plain_name(config))
            where_ = str_cat(project, "/", config);
        secrets_ = std::move(secrets);
        return {};
    }

    https::Client& http_;
    https::Url url_;
    std::string token_; // wiped by the destructor
    std::string where_; // "muse/prd", for messages and Fetched::source
    std::optional<Result<void>> outcome_;
    SecretMap secrets_;
};

} // namespace

Result<std::unique_ptr<Backend>> make_doppler_backend(Context& context)
{
    const EnvMap& env = context.env;
    const auto token = env.get("DOPPLER_TOKEN");
    if (!token)
        return Error(Errc::config, "DOPPLER_TOKEN is not set");
    if (token->empty())
        return Error(Errc::config, "DOPPLER_TOKEN is empty");
    for (char c : *token)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            return Error(Errc::config,
                         "DOPPLER_TOKEN contains a space, a control or a non-ASCII character");

    const auto project = env.get_nonempty("DOPPLER_PROJECT");
    const auto config = env.get_nonempty("DOPPLER_CONFIG");
    const bool service = is_service_token(*token);
    if (!service && (!project || !config)) {
        const std::string_view missing = !project && !config
                                             ? "DOPPLER_PROJECT and DOPPLER_CONFIG are"
                                         : !project ? "DOPPLER_PROJECT is"
                                                    : "DOPPLER_CONFIG is";
        return Error(Errc::config, str_cat(missing, " not set (required unless DOPPLER_TOKEN is a "
                                                    "service token, dp.st.)"));
    }

    const std::string_view host = env.get_nonempty("DOPPLER_API_HOST").value_or(default_api_host);
    auto url = https::Url::parse(host);
    if (!url)
        return with_context(std::move(url.error()), "DOPPLER_API_HOST");
    if (url->scheme != "https")
        return Error(Errc::config, str_cat("DOPPLER_API_HOST: ", quoted(host), " is not https"));
    if (url->target.find('?') != std::string::npos)
        return Error(Errc::config,
                     str_cat("DOPPLER_API_HOST: ", quoted(host), " must not have a query"));
    std::string target = url->target;
    while (!target.empty() && target.back() == '/')
        target.pop_back();
    target += download_path;
    target += "?format=json";
    if (project)
        target += str_cat("&project=", query_encode(*project));
    if (config)
        target += str_cat("&config=", query_encode(*config));
    url->target = std::move(target);

    std::string where = project && config ? str_cat(*project, "/", *config)
                                          : std::string("the service token's config");
    return std::unique_ptr<Backend>(std::make_unique<DopplerBackend>(
        context.http, std::move(*url), std::string(*token), std::move(where)));
}

} // namespace secrun::backends
