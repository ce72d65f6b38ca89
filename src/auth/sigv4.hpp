// AWS Signature Version 4, header form (shared/protocols/aws.md §2). Pure:
// no clock, no I/O. Every stage is a function of its own so that tests can
// check each one against the official vectors.
#pragma once

#include "error.hpp"
#include "https/client.hpp"
#include "secret.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secrun::auth {

// A set of AWS credentials, as every provider of the chain returns it.
struct AwsCredentials {
    std::string access_key_id;     // not secret (it is sent in Authorization), never logged anyway
    SecretString secret_access_key;
    SecretString session_token;    // empty for long-term keys
    std::optional<std::chrono::system_clock::time_point> expiration;
    std::string provider;          // "environment", "profile 'dev'", ... (for -v)
};

namespace sigv4 {

inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

// What a request to an AWS service is signed for.
struct Scope {
    std::string region;  // "us-east-1"
    std::string service; // signing name: "secretsmanager"
};

// Variants the official test suites exercise; Secrets Manager uses the defaults.
struct Options {
    bool normalize_path = true;      // false: S3's rule, the path is used as is
    bool sign_session_token = true;  // false: token header added after signing (legacy STS style)
    bool sign_payload_hash = false;  // true: add and sign x-amz-content-sha256 (S3 style)
};

// "20150830T123600Z" (X-Amz-Date) for a UTC time; sub-seconds are dropped.
[[nodiscard]] std::string amz_date(std::chrono::system_clock::time_point t);

// --- Stage 1: canonical request ---------------------------------------------

// The path as it goes on the wire ("/a%20b/./c"), normalised (when asked:
// dot segments removed, repeated slashes collapsed, a trailing slash kept)
// and URI-encoded per segment, so an already encoded path is encoded twice,
// as AWS requires for every service but S3. "" becomes "/".
[[nodiscard]] std::string canonical_uri(std::string_view wire_path, bool normalize = true);

// Decoded name/value pairs, each encoded (RFC 3986 unreserved only), sorted
// by name then value, joined "n=v&n=v". Empty input gives "".
[[nodiscard]] std::string canonical_query(std::vector<std::pair<std::string, std::string>> params);

// Splits a wire query ("a=1&b&c=%2F") into decoded pairs. nullopt on a
// malformed %-escape.
[[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>>
decode_query(std::string_view wire_query);

struct CanonicalHeaders {
    std::string block;          // "name:value\n" lines, sorted by name
    std::string signed_headers; // "content-type;host;x-amz-date"
};

// Lower-cases names, trims values and collapses inner whitespace (folded
// lines included), joins repeated names with ',' in the order given, sorts
// by name. Headers proxies rewrite (User-Agent, Connection, Authorization,
// ...) are left out, as botocore and aws-c-auth do.
[[nodiscard]] CanonicalHeaders canonical_headers(const https::Headers& headers);

// The six parts joined with '\n'.
[[nodiscard]] std::string canonical_request(std::string_view method, std::string_view uri,
                                            std::string_view query, const CanonicalHeaders& headers,
                                            std::string_view payload_hash);

// --- Stage 2: string to sign ------------------------------------------------

// "20150830/us-east-1/secretsmanager/aws4_request"
[[nodiscard]] std::string credential_scope(std::string_view date, const Scope& scope);

[[nodiscard]] std::string string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                                         std::string_view canonical_request);

// --- Stage 3: signature -----------------------------------------------------

// kSigning = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request".
// The raw 32 bytes, wrapped so that they are wiped after use.
[[nodiscard]] SecretString signing_key(const SecretString& secret_access_key, std::string_view date,
                                       const Scope& scope);

// Lower-case hex HMAC of the string to sign.
[[nodiscard]] std::string signature(const SecretString& signing_key, std::string_view string_to_sign);

// --- Stage 4: Authorization header ------------------------------------------

[[nodiscard]] std::string authorization(std::string_view access_key_id,
                                        std::string_view credential_scope,
                                        std::string_view signed_headers,
                                        std::string_view signature);

// --- All stages on a request ------------------------------------------------

// Every intermediate, for tests. canonical_request holds the session token
// when one is signed: never log it.
struct Signed {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;
    std::string authorization;
};

// The Host value a client sends for `url`: lower-case host, IPv6 in
// brackets, ":port" only when not the scheme's default.
[[nodiscard]] std::string host_header(const https::Url& url);

// Signs `request` at time `now`: adds X-Amz-Date, X-Amz-Security-Token (when
// the credentials have a session token), x-amz-content-sha256 (when
// options.sign_payload_hash) and Authorization to request.headers. Host is
// signed from the request's Host header when present, else from
// host_header(request.url); the client must send that same value. The
// request body is hashed as is: sign after the body is final.
// Errors (Errc::internal): a malformed %-escape in the query.
[[nodiscard]] Result<Signed> sign(https::Request& request, const AwsCredentials& credentials,
                                  const Scope& scope, std::chrono::system_clock::time_point now,
                                  const Options& options = {});

} // namespace sigv4
} // namespace secrun::auth
