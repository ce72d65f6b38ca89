#include "auth/sigv4.hpp"

#include "auth/crypto.hpp"
#include "util/encoding.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <ctime>

namespace secrun::auth::sigv4 {
namespace {

using util::str_cat;

// Headers that proxies and HTTP stacks add or rewrite after signing
// (botocore SIGNED_HEADERS_BLACKLIST, aws-c-auth s_skipped_headers).
constexpr std::array<std::string_view, 12> unsigned_headers = {
    "authorization", "connection", "expect", "keep-alive", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
    "x-amzn-trace-id"};

bool is_unsigned_header(std::string_view lower_name)
{
    return std::find(unsigned_headers.begin(), unsigned_headers.end(), lower_name) !=
           unsigned_headers.end();
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Trims and collapses every run of whitespace (obs-folded lines too) to one space.
std::string canonical_value(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    bool pending_space = false;
    for (char c : value) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space)
            out += ' ';
        pending_space = false;
        out += c;
    }
    return out;
}

// RFC 3986 dot-segment removal plus AWS's collapsing of empty segments; a
// trailing slash survives when something is left before it.
std::string normalize_path(std::string_view path)
{
    std::vector<std::string_view> kept;
    for (auto segment : util::split(path, '/')) {
        if (segment.empty() || segment == ".")
            continue;
        if (segment == "..") {
            if (!kept.empty())
                kept.pop_back();
            continue;
        }
        kept.push_back(segment);
    }
    std::string out = "/";
    for (std::size_t i = 0; i < kept.size(); ++i) {
        if (i > 0)
            out += '/';
        out.append(kept[i]);
    }
    if (!kept.empty() && path.back() == '/')
        out += '/';
    return out;
}

std::string_view date_part(std::string_view amz_date) { return amz_date.substr(0, 8); }

} // namespace

std::string amz_date(std::chrono::system_clock::time_point t)
{
    const std::time_t seconds = std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::seconds>(t));
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    std::array<char, 20> buffer{};
    const std::size_t n = std::strftime(buffer.data(), buffer.size(), "%Y%m%dT%H%M%SZ", &tm);
    return std::string(buffer.data(), n);
}

std::string canonical_uri(std::string_view wire_path, bool normalize)
{
    if (wire_path.empty())
        return "/";
    const std::string path = normalize ? normalize_path(wire_path) : std::string(wire_path);
    return util::percent_encode(path, /*keep_slash=*/true);
}

std::optional<std::vector<std::pair<std::string, std::string>>> decode_query(std::string_view wire_query)
{
    std::vector<std::pair<std::string, std::string>> params;
    if (wire_query.empty())
        return params;
    for (auto part : util::split(wire_query, '&')) {
        if (part.empty())
            continue;
        const auto eq = part.find('=');
        auto name = util::percent_decode(part.substr(0, eq));
        auto value = util::percent_decode(eq == std::string_view::npos ? std::string_view{}
                                                                       : part.substr(eq + 1));
        if (!name || !value)
            return std::nullopt;
        params.emplace_back(std::move(*name), std::move(*value));
    }
    return params;
}

std::string canonical_query(std::vector<std::pair<std::string, std::string>> params)
{
    for (auto& [name, value] : params) {
        name = util::percent_encode(name);
        value = util::percent_encode(value);
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty())
            out += '&';
        out += str_cat(name, "=", value);
    }
    return out;
}

CanonicalHeaders canonical_headers(const https::Headers& headers)
{
    std::vector<std::pair<std::string, std::string>> lines;
    lines.reserve(headers.size());
    for (const auto& [name, value] : headers) {
        std::string lower = util::to_lower(name);
        if (!is_unsigned_header(lower))
            lines.emplace_back(std::move(lower), canonical_value(value));
    }
    // Stable: repeated names keep the order they were given in.
    std::stable_sort(lines.begin(), lines.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });

    CanonicalHeaders out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const bool repeat = i > 0 && lines[i].first == lines[i - 1].first;
        if (repeat) {
            out.block.insert(out.block.size() - 1, str_cat(",", lines[i].second));
            continue;
        }
        out.block += str_cat(lines[i].first, ":", lines[i].second, "\n");
        if (!out.signed_headers.empty())
            out.signed_headers += ';';
        out.signed_headers += lines[i].first;
    }
    return out;
}

std::string canonical_request(std::string_view method, std::string_view uri, std::string_view query,
                              const CanonicalHeaders& headers, std::string_view payload_hash)
{
    return str_cat(method, "\n", uri, "\n", query, "\n", headers.block, "\n",
                   headers.signed_headers, "\n", payload_hash);
}

std::string credential_scope(std::string_view date, const Scope& scope)
{
    return str_cat(date, "/", scope.region, "/", scope.service, "/aws4_request");
}

std::string string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                           std::string_view canonical_request)
{
    return str_cat(algorithm, "\n", amz_date, "\n", credential_scope, "\n",
                   sha256_hex(canonical_request));
}

SecretString signing_key(const SecretString& secret_access_key, std::string_view date,
                         const Scope& scope)
{
    std::string seed = str_cat("AWS4", secret_access_key.reveal());
    SecretString k_date(hmac_sha256(seed, date));
    cleanse(seed);
    SecretString k_region(hmac_sha256(k_date.reveal(), scope.region));
    SecretString k_service(hmac_sha256(k_region.reveal(), scope.service));
    return SecretString(hmac_sha256(k_service.reveal(), "aws4_request"));
}

std::string signature(const SecretString& signing_key, std::string_view string_to_sign)
{
    return util::hex_lower(hmac_sha256(signing_key.reveal(), string_to_sign));
}

std::string authorization(std::string_view access_key_id, std::string_view credential_scope,
                          std::string_view signed_headers, std::string_view signature)
{
    return str_cat(algorithm, " Credential=", access_key_id, "/", credential_scope,
                   ", SignedHeaders=", signed_headers, ", Signature=", signature);
}

std::string host_header(const https::Url& url)
{
    const bool default_port = (url.scheme == "https" && url.port == "443") ||
                              (url.scheme == "http" && url.port == "80");
    const bool v6 = url.host.find(':') != std::string::npos;
    std::string out = v6 ? str_cat("[", url.host, "]") : util::to_lower(url.host);
    if (!default_port && !url.port.empty())
        out += str_cat(":", url.port);
    return out;
}

Result<Signed> sign(https::Request& request, const AwsCredentials& credentials, const Scope& scope,
                    std::chrono::system_clock::time_point now, const Options& options)
{
    const std::string date_time = amz_date(now);
    const std::string payload_hash = sha256_hex(request.body);

    request.headers.emplace_back("X-Amz-Date", date_time);
    if (options.sign_payload_hash)
        request.headers.emplace_back("x-amz-content-sha256", payload_hash);
    const bool has_token = !credentials.session_token.empty();
    if (has_token && options.sign_session_token)
        request.headers.emplace_back("X-Amz-Security-Token",
                                     std::string(credentials.session_token.reveal()));

    https::Headers to_sign = request.headers;
    const bool has_host = std::any_of(to_sign.begin(), to_sign.end(),
                                      [](const auto& h) { return util::iequals(h.first, "host"); });
    if (!has_host)
        to_sign.emplace_back("host", host_header(request.url));

    const std::string_view target = request.url.target;
    const auto question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    auto params = decode_query(query);
    if (!params)
        return Error(Errc::internal,
                     str_cat("cannot sign a request to ", request.url.origin(),
                             ": malformed %-escape in its query string"));

    CanonicalHeaders headers = canonical_headers(to_sign);
    for (auto& header : to_sign)
        cleanse(header.second); // the copy held the session token

    Signed out;
    out.canonical_request =
        canonical_request(request.method, canonical_uri(path, options.normalize_path),
                          canonical_query(std::move(*params)), headers, payload_hash);
    const std::string scope_text = credential_scope(date_part(date_time), scope);
    out.string_to_sign = string_to_sign(date_time, scope_text, out.canonical_request);
    const SecretString key =
        signing_key(credentials.secret_access_key, date_part(date_time), scope);
    out.signature = signature(key, out.string_to_sign);
    out.authorization = authorization(credentials.access_key_id, scope_text,
                                      headers.signed_headers, out.signature);
    cleanse(headers.block);

    if (has_token && !options.sign_session_token)
        request.headers.emplace_back("X-Amz-Security-Token",
                                     std::string(credentials.session_token.reveal()));
    request.headers.emplace_back("Authorization", out.authorization);
    return out;
}

} // namespace secrun::auth::sigv4
