#include "auth/azure_credentials.hpp"

#include "auth/azure_sources.hpp"
#include "log.hpp"
#include "util/strings.hpp"

#include <array>

namespace secrun::auth {
namespace asio = boost::asio;
using util::str_cat;

namespace {

enum Source : std::size_t { environment, workload_identity, managed_identity, azure_cli, count };

// The names the combined "no Azure credential" message uses.
constexpr std::array<std::string_view, Source::count> source_names = {
    "environment", "workload identity", "managed identity", "Azure CLI"};

// AZURE_TOKEN_CREDENTIALS, as the SDKs read it: unset for the whole chain,
// "prod" or "dev" for a part of it, or one credential's class name.
Result<std::vector<Source>> selected_sources(const EnvMap& env)
{
    const auto value = env.get_nonempty("AZURE_TOKEN_CREDENTIALS");
    if (!value)
        return std::vector<Source>{environment, workload_identity, managed_identity, azure_cli};
    const std::string name = util::to_lower(util::trim(*value));
    if (name == "prod")
        return std::vector<Source>{environment, workload_identity, managed_identity};
    if (name == "dev" || name == "azureclicredential")
        return std::vector<Source>{azure_cli};
    if (name == "environmentcredential")
        return std::vector<Source>{environment};
    if (name == "workloadidentitycredential")
        return std::vector<Source>{workload_identity};
    if (name == "managedidentitycredential")
        return std::vector<Source>{managed_identity};
    return Error(Errc::config,
                 str_cat("AZURE_TOKEN_CREDENTIALS=", util::quoted(*value),
                         " is not one of prod, dev, EnvironmentCredential, "
                         "WorkloadIdentityCredential, ManagedIdentityCredential, AzureCliCredential"));
}

asio::awaitable<azure::Outcome> run_source(Source source, azure::SourceContext ctx,
                                           AzureTokenRequest request)
{
    switch (source) {
    case environment: {
        azure::Outcome outcome = co_await azure::environment_credential(ctx, std::move(request));
        co_return outcome;
    }
    case workload_identity: {
        azure::Outcome outcome = co_await azure::workload_identity_credential(ctx, std::move(request));
        co_return outcome;
    }
    case managed_identity: {
        azure::Outcome outcome = co_await azure::managed_identity_credential(ctx, std::move(request));
        co_return outcome;
    }
    default: {
        azure::Outcome outcome = co_await azure::azure_cli_credential(ctx, std::move(request));
        co_return outcome;
    }
    }
}

} // namespace

AzureCredentialChain::AzureCredentialChain(const EnvMap& env, https::Client& http, WallClock now,
                                           AzureCredentialOptions options)
    : env_(env), http_(http), now_(std::move(now)), options_(options)
{
}

asio::awaitable<Result<AzureToken>> AzureCredentialChain::get_token(AzureTokenRequest request)
{
    if (!request.tenant.empty() && !azure::is_tenant_id(request.tenant))
        co_return Error(Errc::auth, str_cat("the tenant ", util::quoted(request.tenant),
                                            " is not a tenant id or domain"));
    auto selected = selected_sources(env_);
    if (!selected)
        co_return selected.error();
    // Once a source has worked, the run sticks to it (as DefaultAzureCredential does).
    std::vector<Source> order = *selected;
    if (chosen_)
        order = {static_cast<Source>(*chosen_)};

    const azure::SourceContext ctx{&env_, &http_, now_, options_};
    std::string reasons;
    for (const Source source : order) {
        azure::Outcome outcome = co_await run_source(source, ctx, request);
        if (auto* acquired = std::get_if<azure::Acquired>(&outcome)) {
            chosen_ = source;
            source_ = std::move(acquired->source);
            variables_ = std::move(acquired->variables);
            log::debug(str_cat("Azure token from ", source_));
            co_return std::move(acquired->token);
        }
        if (auto* error = std::get_if<Error>(&outcome))
            co_return std::move(*error);
        if (!reasons.empty())
            reasons += "; ";
        reasons += str_cat(source_names[source], ": ", std::get<azure::Unavailable>(outcome).reason);
    }
    co_return Error(Errc::auth, str_cat("no Azure credential: ", reasons));
}

} // namespace secrun::auth
