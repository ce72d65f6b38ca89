// The AWS fake's SigV4 check: the signature is recomputed from the request
// exactly as received (method, raw path and query, the signed headers and
// the body) and the credentials in the scenario, following the IAM user
// guide's "Create a signed AWS API request" (protocols/aws.md §2). This file
// shares no code with secrun's signer on purpose.
//
// Errors and their texts are those AWS services answer (protocols/aws.md
// §1.5, §5.4; boto/botocore#3587 for "Signature expired"). Texts marked
// "(fake)" below were not confirmed against the live service.
#include "aws_fake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

namespace secrun::fakes::aws
{
namespace
{

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr auto max_skew = std::chrono::minutes(5);

AuthFailure fail(std::string code, std::string message, unsigned status = 400)
{
    return AuthFailure{status, std::move(code), std::move(message)};
}

std::string lower(std::string_view text)
{
    std::string out(text);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool unreserved(unsigned char c)
{
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// RFC 3986 encoding of every byte but the unreserved ones, upper-case hex.
std::string uri_encode(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (unreserved(c)) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

std::vector<std::string> split(std::string_view text, char separator)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto at = text.find(separator, start);
        parts.emplace_back(text.substr(start, at - start));
        if (at == std::string_view::npos)
            return parts;
        start = at + 1;
    }
}

// The wire path with "." and ".." segments resolved and empty segments
// dropped (a trailing slash kept), each segment encoded once more: every
// service but S3 signs the already-encoded path encoded again.
std::string canonical_uri(std::string_view wire_path)
{
    std::vector<std::string> kept;
    for (auto& segment : split(wire_path, '/')) {
        if (segment.empty() || segment == ".")
            continue;
        if (segment == "..") {
            if (!kept.empty())
                kept.pop_back();
            continue;
        }
        kept.push_back(std::move(segment));
    }
    std::string out;
    for (const auto& segment : kept)
        out += "/" + uri_encode(segment);
    if (out.empty())
        return "/";
    if (wire_path.size() > 1 && wire_path.back() == '/')
        out += '/';
    return out;
}

// Query pairs decoded ('+' is a plus sign, as AWS signs it), re-encoded,
// sorted by name then value.
std::string canonical_query(std::string_view wire_query)
{
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& item : split(wire_query, '&')) {
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        const std::string name = percent_decode(std::string_view(item).substr(0, eq), false);
        const std::string value =
            eq == std::string::npos ? "" : percent_decode(std::string_view(item).substr(eq + 1), false);
        pairs.emplace_back(uri_encode(name), uri_encode(value));
    }
    std::sort(pairs.begin(), pairs.end());
    std::string out;
    for (const auto& [name, value] : pairs) {
        if (!out.empty())
            out += '&';
        out += name + "=" + value;
    }
    return out;
}

// A header value as signed: outer white space removed, inner runs of
// white space (folded lines included) made one space.
std::string canonical_value(std::string_view value)
{
    std::string out;
    bool space = false;
    for (const char c : value) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = true;
            continue;
        }
        if (space && !out.empty())
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

std::string sha256(std::string_view data)
{
    return sha256_hex(data);
}

std::string hmac_raw(std::string_view key, std::string_view data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
    return std::string(reinterpret_cast<const char*>(out), length);
}

// Lower-case hex HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const char ch : hmac_raw(key, data)) {
        const auto c = static_cast<unsigned char>(ch);
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
    return out;
}

struct Authorization {
    std::string access_key;
    std::string date;
    std::string region;
    std::string service;
    std::string terminator;
    std::string signed_headers;
    std::string signature;
};

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/svc/aws4_request,
// SignedHeaders=a;b, Signature=hex" (components separated by commas,
// spaces optional).
std::optional<AuthFailure> parse_authorization(std::string_view header, Authorization& out)
{
    if (header.substr(0, algorithm.size()) != algorithm || header.size() == algorithm.size() ||
        header[algorithm.size()] != ' ')
        return fail("IncompleteSignatureException",
                    "Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is accepted (fake)");
    std::string credential;
    bool have_credential = false;
    bool have_headers = false;
    bool have_signature = false;
    for (auto part : split(header.substr(algorithm.size() + 1), ',')) {
        const std::string_view p = [&] {
            std::string_view v = part;
            while (!v.empty() && v.front() == ' ')
                v.remove_prefix(1);
            while (!v.empty() && v.back() == ' ')
                v.remove_suffix(1);
            return v;
        }();
        const auto eq = p.find('=');
        const std::string_view key = p.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? "" : p.substr(eq + 1);
        if (key == "Credential") {
            credential = value;
            have_credential = true;
        } else if (key == "SignedHeaders") {
            out.signed_headers = value;
            have_headers = true;
        } else if (key == "Signature") {
            out.signature = value;
            have_signature = true;
        }
    }
    std::string missing;
    if (!have_credential)
        missing += "Authorization header requires 'Credential' parameter. ";
    if (!have_headers)
        missing += "Authorization header requires 'SignedHeaders' parameter. ";
    if (!have_signature)
        missing += "Authorization header requires 'Signature' parameter. ";
    if (!missing.empty()) {
        missing.pop_back();
        return fail("IncompleteSignatureException", missing);
    }
    const auto scope = split(credential, '/');
    if (scope.size() != 5 || scope[0].empty())
        return fail("IncompleteSignatureException",
                    "Credential should be scoped to a valid region, service and terminator (fake)");
    out.access_key = scope[0];
    out.date = scope[1];
    out.region = scope[2];
    out.service = scope[3];
    out.terminator = scope[4];
    return std::nullopt;
}

std::string canonical_request(const HttpRequest& request, const std::vector<std::string>& signed_names,
                              std::string_view signed_headers)
{
    const auto question = request.target.find('?');
    const std::string_view target = request.target;
    const std::string_view wire_path = target.substr(0, question);
    const std::string_view wire_query =
        question == std::string::npos ? std::string_view{} : target.substr(question + 1);

    std::vector<std::string> names = signed_names;
    std::sort(names.begin(), names.end());
    std::string headers;
    for (const auto& name : names) {
        std::string joined;
        bool first = true;
        for (const auto& [key, value] : request.headers) {
            if (lower(key) != name)
                continue;
            if (!first)
                joined += ',';
            joined += canonical_value(value);
            first = false;
        }
        headers += name + ":" + joined + "\n";
    }
    return request.method + "\n" + canonical_uri(wire_path) + "\n" + canonical_query(wire_query) + "\n" +
           headers + "\n" + std::string(signed_headers) + "\n" + sha256(request.body);
}

} // namespace

std::optional<AuthFailure> authenticate(const State& state, const HttpRequest& request,
                                        std::string_view service, Caller& caller)
{
    const auto header = request.header("Authorization");
    if (!header || header->empty()) {
        if (request.query_param("X-Amz-Algorithm"))
            return fail("IncompleteSignatureException",
                        "query-string (presigned) authentication is not implemented (fake)");
        return fail("MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    Authorization auth;
    if (auto error = parse_authorization(*header, auth))
        return error;

    const auto date_header = request.header("X-Amz-Date");
    if (!date_header)
        return fail("IncompleteSignatureException",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    const auto signed_at = parse_amz_date(*date_header);
    if (!signed_at)
        return fail("IncompleteSignatureException",
                    "Date must be in ISO-8601 'basic format'. Got '" + std::string(*date_header) +
                        "'. See http://en.wikipedia.org/wiki/ISO_8601");
    if (auth.terminator != "aws4_request")
        return fail("InvalidSignatureException", "Credential should be scoped with a valid terminator: "
                                                 "'aws4_request', not '" + auth.terminator + "'.");
    if (auth.service != service)
        return fail("InvalidSignatureException",
                    "Credential should be scoped to correct service: '" + std::string(service) + "'. ");
    if (auth.region.empty())
        return fail("InvalidSignatureException", "Credential should be scoped to a valid region. ");
    if (auth.date != date_header->substr(0, 8))
        return fail("InvalidSignatureException",
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                    "HTTP: '" + auth.date + "' != '" + std::string(date_header->substr(0, 8)) +
                        "', from '" + "x-amz-date" + "'.");

    const auto names = split(auth.signed_headers, ';');
    if (std::find(names.begin(), names.end(), "host") == names.end())
        return fail("InvalidSignatureException",
                    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    if (std::find(names.begin(), names.end(), "x-amz-date") == names.end())
        return fail("InvalidSignatureException",
                    "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization (fake).");

    const auto found = state.credentials.find(auth.access_key);
    if (found == state.credentials.end())
        return fail("UnrecognizedClientException", "The security token included in the request is invalid.");
    const Credential& credential = found->second;
    const auto token = request.header("X-Amz-Security-Token");
    if (credential.session_token.empty() ? token.has_value() : token != credential.session_token)
        return fail("UnrecognizedClientException", "The security token included in the request is invalid.");
    if (token && std::find(names.begin(), names.end(), "x-amz-security-token") == names.end())
        return fail("InvalidSignatureException",
                    "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization (fake).");

    const auto now = state.now();
    if (*signed_at < now - max_skew)
        return fail("InvalidSignatureException", "Signature expired: " + std::string(*date_header) +
                                                     " is now earlier than " + amz_date(now - max_skew) +
                                                     " (" + amz_date(now) + " - 5 min.)");
    if (*signed_at > now + max_skew)
        return fail("InvalidSignatureException", "Signature not yet current: " + std::string(*date_header) +
                                                     " is still later than " + amz_date(now + max_skew) +
                                                     " (" + amz_date(now) + " + 5 min.)");
    if (credential.expiration && *credential.expiration <= now)
        return fail("ExpiredTokenException", "The security token included in the request is expired");

    const std::string creq = canonical_request(request, names, auth.signed_headers);
    const std::string scope = auth.date + "/" + auth.region + "/" + auth.service + "/aws4_request";
    const std::string to_sign =
        std::string(algorithm) + "\n" + std::string(*date_header) + "\n" + scope + "\n" + sha256(creq);
    std::string key = hmac_raw("AWS4" + credential.secret_key, auth.date);
    key = hmac_raw(key, auth.region);
    key = hmac_raw(key, auth.service);
    key = hmac_raw(key, "aws4_request");
    const std::string expected = hmac_sha256(key, to_sign);
    if (auth.signature.size() != expected.size() ||
        CRYPTO_memcmp(auth.signature.data(), expected.data(), expected.size()) != 0)
        return fail("InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method. Consult the service "
                    "documentation for details.");

    caller.access_key = auth.access_key;
    caller.principal = credential.principal;
    caller.region = auth.region;
    return std::nullopt;
}

} // namespace secrun::fakes::aws
