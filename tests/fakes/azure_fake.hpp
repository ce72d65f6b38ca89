// Internal to the Azure fake (azure_fake.cpp, azure_fake_identity.cpp): the
// state its routes share. The scenario format is described in azure_fake.cpp.
#pragma once

#include "fake_cloud.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace secrun::fakes::azure
{

struct Principal {
    std::string secret;          // client secret credential
    std::string certificate_der; // client certificate (assertions are checked against it)
    std::string x5t;             // base64url SHA-1 of certificate_der
    std::string federated_token; // workload identity: the assertion it accepts
    bool managed_identity = false;
    std::set<std::string> tenants; // where it may get tokens
};

struct Issued {
    std::string principal;
    std::string tenant;
    std::string audience; // "https://vault.azure.net"
};

struct Version {
    std::string id; // 32 hex characters
    std::string value;
    bool enabled = true;
};

struct Secret {
    std::string name; // as created (Key Vault keeps the spelling, matches case-insensitively)
    std::vector<Version> versions; // the last one is the current version
    std::string content_type;
};

struct State {
    std::string tenant; // the vault's tenant (named by its challenges)
    std::map<std::string, Principal> principals;
    std::optional<std::set<std::string>> readers; // nullopt: every principal may read
    std::string identity_header;                  // App Service; empty: no App Service endpoint
    std::map<std::string, Secret> secrets;        // by lower-case name
    std::map<std::string, Issued> tokens;         // every token issued (or pre-issued)
    std::uint64_t next_token = 1;

    // Issues a token for `principal` in `tenant`, for `audience`.
    std::string issue(const std::string& principal, const std::string& tenant,
                      const std::string& audience);
};

constexpr std::string_view vault_resource = "https://vault.azure.net";

// Seconds since the epoch, now.
[[nodiscard]] std::int64_t now_seconds();

// "a=1&b=%20" -> {{"a","1"},{"b"," "}} (application/x-www-form-urlencoded).
[[nodiscard]] std::map<std::string, std::string> parse_form(std::string_view body);

// Adds the Entra ID token endpoint, IMDS and App Service routes.
void add_identity_routes(const std::shared_ptr<State>& state, VendorSetup& setup);

// Reads a PEM certificate file; returns its DER bytes and sets `x5t`, or an error.
[[nodiscard]] std::optional<std::string> load_certificate(const std::filesystem::path& file,
                                                          std::string& der, std::string& x5t);

} // namespace secrun::fakes::azure
