// Internals of the AWS fake (aws_fake*.cpp): its state and the pieces its
// files share. Only those files include this header; everything else sees
// the fake through the scenario and the wire (fake_cloud.hpp).
//
// The fake's SigV4 verification (aws_fake_sigv4.cpp) is written from the
// AWS documentation independently of secrun's signer (src/auth/sigv4.cpp),
// so that a mistake in one is not mirrored in the other; botocore, a third
// implementation, checks the fake (tests/oracle/botocore_oracle.py).
#pragma once

#include "fake_cloud.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace secrun::fakes::aws
{

using Clock = std::chrono::system_clock;

// An access key the fake accepts.
struct Credential {
    std::string secret_key;
    std::string session_token; // "" for long-term keys; else it must be sent (and signed)
    std::string principal;     // what policies name: the key id, or the role ARN it was issued for
    std::optional<Clock::time_point> expiration;
};

// Credentials an identity endpoint hands out. They are accepted only from
// the moment they were handed out (until their expiration).
struct IssuedCredential {
    std::string access_key;
    std::string secret_key;
    std::string session_token;
    std::chrono::seconds duration{3600};
};

struct SecretVersion {
    std::string id;
    std::vector<std::string> stages;
    std::optional<std::string> string_value;
    std::optional<std::string> binary_base64; // as it goes on the wire
    double created = 0;                       // epoch seconds
};

struct Secret {
    std::string name;
    std::string region;
    std::string arn; // arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>
    std::vector<SecretVersion> versions;
    bool deleted = false;
    std::optional<std::set<std::string>> allow; // principals that may read it; nullopt: all
    std::set<std::string> deny;                 // principals that may not ("*": everyone)
};

struct WebIdentity {
    std::string role_arn;
    std::string subject;
    IssuedCredential issue;
};

struct AssumableRole {
    std::set<std::string> trusted; // principals allowed to assume it ("*": every signed caller)
    IssuedCredential issue;
};

struct Ecs {
    bool configured = false;
    std::string path;          // GET path on the plain-HTTP port
    std::string authorization; // required Authorization value; "" for none
    std::string role_arn;
    IssuedCredential issue;
};

struct Imds {
    bool configured = false;
    std::string role; // the instance profile's role name
    std::string region;
    bool v1_allowed = false; // GETs without a token are refused (IMDSv2 required) unless true
    IssuedCredential issue;
    std::map<std::string, Clock::time_point> tokens; // session token -> expiry
};

struct State {
    std::string account = "111122223333";
    std::string region = "us-east-1"; // where secrets live unless they say otherwise
    std::chrono::seconds clock_offset{0};
    std::map<std::string, Credential> credentials; // by access key id
    std::vector<Secret> secrets;
    std::map<std::string, unsigned> throttle;                  // operation -> calls left to throttle
    std::map<std::string, std::set<std::string>> deny_actions; // operation -> principals ("*")
    std::size_t batch_page_size = 20;
    std::map<std::string, WebIdentity> web_identity_tokens; // by token
    std::map<std::string, AssumableRole> roles;             // AssumeRole, by role ARN
    Ecs ecs;
    Imds imds;
    std::uint64_t request_counter = 0;

    // The fake's clock: the real one shifted by clock_offset (skew tests).
    [[nodiscard]] Clock::time_point now() const { return Clock::now() + clock_offset; }
    [[nodiscard]] std::string next_request_id();
    // Makes `issued` acceptable from now on, for `principal`; returns its expiry.
    Clock::time_point activate(const IssuedCredential& issued, const std::string& principal);
};

// Reads the "aws" scenario section into `state`. An error names the bad key.
[[nodiscard]] std::optional<std::string> load_state(const boost::json::object& section, State& state);

// --- SigV4 verification (aws_fake_sigv4.cpp) ----------------------------------

// Why a request was not authenticated, in awsJson terms (the STS front end
// renames the codes to their awsQuery forms).
struct AuthFailure {
    unsigned status = 400;
    std::string code; // "InvalidSignatureException", "UnrecognizedClientException", ...
    std::string message;
};

struct Caller {
    std::string access_key;
    std::string principal;
    std::string region; // from the credential scope: where the request is served
};

// Verifies the request's SigV4 Authorization header for `service` by
// recomputing the signature from the raw request.
[[nodiscard]] std::optional<AuthFailure> authenticate(const State& state, const HttpRequest& request,
                                                      std::string_view service, Caller& caller);

// --- Front ends ----------------------------------------------------------------

// Secrets Manager (aws_fake_secrets.cpp): an awsJson1_1 request on POST /.
[[nodiscard]] HttpResponse secrets_manager(State& state, Counters& counters, const HttpRequest& request);

// STS (aws_fake_identity.cpp): an awsQuery request on POST /.
[[nodiscard]] HttpResponse sts(State& state, Counters& counters, const HttpRequest& request);
// The container credentials endpoint; nullopt when `request` is not for it.
[[nodiscard]] std::optional<HttpResponse> ecs(State& state, Counters& counters, const HttpRequest& request);
// EC2 instance metadata; nullopt for paths it does not serve.
[[nodiscard]] std::optional<HttpResponse> imds(State& state, Counters& counters, const HttpRequest& request);

// --- Helpers -------------------------------------------------------------------

// ISO-8601 "2026-01-02T03:04:05Z".
[[nodiscard]] std::string iso8601(Clock::time_point t);
// "20260102T030405Z" and back (nullopt when malformed).
[[nodiscard]] std::string amz_date(Clock::time_point t);
[[nodiscard]] std::optional<Clock::time_point> parse_amz_date(std::string_view text);
// Escapes & < > " ' for XML text.
[[nodiscard]] std::string xml_escape(std::string_view text);

} // namespace secrun::fakes::aws
