// Doppler: GET {DOPPLER_API_HOST}/v3/configs/config/secrets/download?format=json
// (protocols/azure_doppler.md §4). The whole config arrives in one call, as a
// flat JSON object of names to computed values; it includes Doppler's own
// DOPPLER_PROJECT, DOPPLER_CONFIG and DOPPLER_ENVIRONMENT, which name the
// config (used in messages) and are not injected by fetch_all().
#include "backends/doppler_backend.hpp"

#include "backends/doppler_protocol.hpp"
#include "https/client.hpp"
#include "util/strings.hpp"

#include <cctype>
#include <optional>

namespace secrun::backends
{
namespace
{

using util::quoted;
using util::str_cat;

constexpr std::string_view default_api_host = "https://api.doppler.com";
constexpr std::string_view download_path = "/v3/configs/config/secrets/download";
constexpr std::string_view metadata_keys[] = {"DOPPLER_PROJECT", "DOPPLER_CONFIG",
                                              "DOPPLER_ENVIRONMENT"};

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
        // A transport error names the host and the step; the caller's
        // context names the backend ("doppler: ..."), so no "Doppler: " here.
        if (!sent)
            co_return sent.error();
        const https::Response& response = *sent;
        if (response.status != 200)
            co_return status_error(response);
        co_return parse_download(response.body);
    }

    Error status_error(const https::Response& response) const
    {
        const std::string code = std::to_string(response.status);
        const std::string details = doppler::server_messages(response.body, token_);
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

    // Takes the download; a service token's download names its config: say
    // which in messages.
    Result<void> parse_download(std::string_view body)
    {
        auto download = doppler::parse_download(body, where_);
        if (!download)
            return download.error();
        if (doppler::is_plain_name(download->project) && doppler::is_plain_name(download->config))
            where_ = str_cat(download->project, "/", download->config);
        secrets_ = std::move(download->secrets);
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
        return with_context(url.error(), "DOPPLER_API_HOST");
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
