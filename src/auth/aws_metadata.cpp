#include "auth/aws_metadata.hpp"

#include "auth/aws_config.hpp"
#include "auth/aws_endpoints.hpp"
#include "auth/aws_errors.hpp"
#include "auth/iso8601.hpp"
#include "auth/wiped_json.hpp"
#include "util/strings.hpp"

#include <boost/asio/ip/address.hpp>

namespace secrun::auth {
namespace {

using util::str_cat;

constexpr std::size_t max_metadata_response = 64 * 1024;
constexpr std::size_t max_token_file = 16 * 1024;

// The container endpoint over plain http: loopback or the link-local
// addresses ECS and EKS Pod Identity use.
bool container_host_allowed(std::string_view host)
{
    if (host == "localhost")
        return true;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec)
        return false;
    if (address.is_loopback())
        return true;
    for (const char* allowed : {"169.254.170.2", "169.254.170.23", "fd00:ec2::23"})
        if (address == boost::asio::ip::make_address(allowed))
            return true;
    return false;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

} // namespace

Result<AwsCredentials> credentials_from_json(std::string_view body, std::string_view token_key,
                                             std::string_view what)
{
    const auto bad = [&](std::string_view why) {
        return Error(Errc::bad_response, str_cat(what, ": ", why));
    };
    const auto document = parse_json_wiped(body);
    if (!document || !document->is_object())
        return bad("not a JSON object");
    const auto& object = document->get_object();
    const auto key_id = json_string(object, "AccessKeyId");
    const auto secret = json_string(object, "SecretAccessKey");
    if (!key_id || key_id->empty())
        return bad("no AccessKeyId");
    if (!secret || secret->empty())
        return bad("no SecretAccessKey");
    AwsCredentials out;
    out.access_key_id = std::string(*key_id);
    out.secret_access_key = SecretString(*secret);
    if (const auto token = json_string(object, token_key))
        out.session_token = SecretString(*token);
    if (const auto expiration = json_string(object, "Expiration")) {
        out.expiration = parse_iso8601(*expiration);
        if (!out.expiration)
            return bad("unreadable Expiration");
    }
    return out;
}

// --- Container credentials ---------------------------------------------------

Result<std::optional<ContainerEndpoint>> container_endpoint(const EnvMap& env)
{
    ContainerEndpoint out;
    if (const auto relative = env.get_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
        if (relative->front() != '/')
            return Error(Errc::config, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
        auto url = https::Url::parse(str_cat("http://169.254.170.2", *relative));
        if (!url)
            return with_context(url.error(), "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        out.url = std::move(*url);
    } else if (const auto full = env.get_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        auto url = https::Url::parse(*full);
        if (!url)
            return with_context(url.error(), "AWS_CONTAINER_CREDENTIALS_FULL_URI");
        if (url->scheme == "http" && !container_host_allowed(url->host))
            return Error(Errc::config,
                         str_cat("AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed only to "
                                 "loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23, not ",
                                 util::quoted(url->host), " (use https)"));
        out.url = std::move(*url);
    } else {
        return std::optional<ContainerEndpoint>();
    }
    if (const auto file = env.get_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
        out.token_file = std::string(*file);
    else if (const auto token = env.get_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
        out.token = SecretString(*token);
    return std::optional<ContainerEndpoint>(std::move(out));
}

boost::asio::awaitable<Result<AwsCredentials>> fetch_container_credentials(https::Client& http,
                                                                           ContainerEndpoint endpoint)
{
    SecretString token = std::move(endpoint.token);
    if (!endpoint.token_file.empty()) {
        auto read = read_file_bounded(endpoint.token_file, max_token_file);
        if (!read)
            co_return with_context(read.error(), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        if (!*read)
            co_return Error(Errc::config, str_cat("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ",
                                                  endpoint.token_file, " does not exist"));
        token = SecretString(std::string(util::trim(**read)));
        cleanse(**read);
    }
    if (has_line_break(token.reveal()))
        co_return Error(Errc::config, "the container authorization token contains a line break");

    https::Request request;
    request.method = "GET";
    request.url = endpoint.url;
    request.headers.emplace_back("Accept", "application/json");
    if (!token.empty())
        request.headers.emplace_back("Authorization", std::string(token.reveal()));
    request.allow_http = endpoint.url.scheme == "http";
    request.timeout = container_timeout;
    request.max_attempts = 3;
    request.body_limit = max_metadata_response;
    request.what = "ECS container credentials";
    const std::string where = str_cat(endpoint.url.origin(), endpoint.url.target);
    auto task = http.send(std::move(request));
    auto response = co_await std::move(task);
    if (!response)
        co_return response.error();
    if (response->status != 200) {
        const AwsServiceError error = parse_json_error(*response);
        std::string text = str_cat("GET ", where, " returned HTTP ", std::to_string(response->status));
        if (!error.code.empty() || !error.message.empty())
            text += str_cat(": ", error.code, error.code.empty() || error.message.empty() ? "" : ": ",
                            error.message);
        co_return Error(response->status >= 500 ? Errc::unavailable : Errc::auth, std::move(text));
    }
    co_return credentials_from_json(response->body, "Token", str_cat("the container endpoint ", where));
}

// --- EC2 instance metadata ---------------------------------------------------

Result<ImdsClient> ImdsClient::from_env(const EnvMap& env, https::Client& http)
{
    ImdsClient client(http);
    client.disabled_ = env_flag(env, "AWS_EC2_METADATA_DISABLED");
    client.v1_allowed_ = !env_flag(env, "AWS_EC2_METADATA_V1_DISABLED");
    std::string endpoint = "http://169.254.169.254";
    if (const auto set = env.get_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
        endpoint = std::string(*set);
    } else if (const auto mode = env.get_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")) {
        if (util::iequals(*mode, "IPv6"))
            endpoint = "http://[fd00:ec2::254]";
        else if (!util::iequals(*mode, "IPv4"))
            return Error(Errc::config, str_cat("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or "
                                               "IPv6, not ", util::quoted(*mode)));
    }
    auto url = https::Url::parse(endpoint);
    if (!url)
        return with_context(url.error(), "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    client.base_ = std::move(*url);
    // The endpoint is a base: paths are appended to it.
    if (!client.base_.target.empty() && client.base_.target.back() == '/')
        client.base_.target.pop_back();
    return client;
}

https::Request ImdsClient::request(std::string method, std::string_view path) const
{
    https::Request r;
    r.method = std::move(method);
    r.url = base_;
    r.url.target = str_cat(base_.target, path);
    r.allow_http = base_.scheme == "http";
    r.timeout = imds_timeout;
    r.max_attempts = 2;
    r.body_limit = max_metadata_response;
    r.what = "EC2 instance metadata";
    return r;
}

boost::asio::awaitable<Result<void>> ImdsClient::ensure_token()
{
    if (have_token_)
        co_return Result<void>{};
    https::Request put = request("PUT", "/latest/api/token");
    put.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    put.max_attempts = 1; // the probe: a machine without IMDS must fail fast
    auto task = http_->send(std::move(put));
    auto response = co_await std::move(task);
    if (!response) {
        if (response.error().code == Errc::timeout && v1_allowed_) {
            have_token_ = true; // a hop limit of 1 drops the PUT answer in containers: try v1
            co_return Result<void>{};
        }
        co_return response.error();
    }
    if (response->status == 200 && !response->body.empty() && !has_line_break(response->body)) {
        token_ = SecretString(response->body);
        have_token_ = true;
        co_return Result<void>{};
    }
    const bool v1_status = response->status == 403 || response->status == 404 || response->status == 405;
    if (v1_status && v1_allowed_) {
        have_token_ = true;
        co_return Result<void>{};
    }
    co_return Error(response->status == 200 ? Errc::bad_response : Errc::auth,
                    str_cat("PUT ", base_.origin(), "/latest/api/token returned HTTP ",
                            std::to_string(response->status),
                            response->status == 200 ? " with an unusable token" : ""));
}

boost::asio::awaitable<Result<std::string>> ImdsClient::get(std::string path)
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto token_task = ensure_token();
        auto token = co_await std::move(token_task);
        if (!token)
            co_return token.error();
        https::Request r = request("GET", path);
        if (!token_.empty())
            r.headers.emplace_back("X-aws-ec2-metadata-token", std::string(token_.reveal()));
        auto send_task = http_->send(std::move(r));
        auto response = co_await std::move(send_task);
        if (!response)
            co_return response.error();
        if (response->status == 401 && attempt == 0 && !token_.empty()) {
            have_token_ = false; // the token expired: get a new one, once
            token_ = SecretString();
            continue;
        }
        if (response->status != 200)
            co_return Error(response->status == 404 ? Errc::not_found
                            : response->status >= 500 ? Errc::unavailable
                                                      : Errc::auth,
                            str_cat("GET ", base_.origin(), path, " returned HTTP ",
                                    std::to_string(response->status)));
        co_return std::move(response->body);
    }
    co_return Error(Errc::auth, str_cat("GET ", base_.origin(), path, " returned HTTP 401"));
}

boost::asio::awaitable<Result<AwsCredentials>> ImdsClient::credentials()
{
    auto roles_task = get("/latest/meta-data/iam/security-credentials/");
    auto roles = co_await std::move(roles_task);
    if (!roles) {
        if (roles.error().code == Errc::not_found)
            co_return Error(Errc::auth, "no IAM role is attached to this instance");
        co_return roles.error();
    }
    const std::string role(util::trim(roles->substr(0, roles->find('\n'))));
    if (role.empty() || role.find('/') != std::string::npos)
        co_return Error(role.empty() ? Errc::auth : Errc::bad_response,
                        role.empty() ? "no IAM role is attached to this instance"
                                     : "the instance metadata role name is not usable");
    auto document_task = get(str_cat("/latest/meta-data/iam/security-credentials/", role));
    auto document = co_await std::move(document_task);
    if (!document)
        co_return document.error();
    // A 200 may carry Code and Message instead of keys.
    if (const auto parsed = parse_json_wiped(*document); parsed && parsed->is_object()) {
        const auto code = json_string(parsed->get_object(), "Code");
        if (code && *code != "Success") {
            const auto message = json_string(parsed->get_object(), "Message");
            cleanse(*document);
            co_return Error(Errc::auth, str_cat("instance role ", util::quoted(role), ": ", one_line(*code, 100),
                                                message ? str_cat(": ", one_line(*message)) : ""));
        }
    }
    auto credentials = credentials_from_json(*document, "Token", str_cat("instance role ", util::quoted(role)));
    cleanse(*document);
    co_return credentials;
}

boost::asio::awaitable<Result<std::string>> ImdsClient::region()
{
    auto task = get("/latest/meta-data/placement/region");
    auto body = co_await std::move(task);
    if (!body)
        co_return body.error();
    const std::string region(util::trim(*body));
    if (!is_valid_region(region))
        co_return Error(Errc::bad_response, "instance metadata gave an invalid region");
    co_return region;
}

} // namespace secrun::auth
