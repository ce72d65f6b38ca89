// The Doppler backend: one download of the whole config, then lookups.
#pragma once

#include "backends/backend.hpp"

#include <memory>

namespace secrun::backends
{

// Reads DOPPLER_TOKEN (required), DOPPLER_PROJECT and DOPPLER_CONFIG
// (required unless the token is a service token, "dp.st."), and
// DOPPLER_API_HOST (default https://api.doppler.com) from context.env.
// Returns Errc::config naming the variable when one is missing or invalid;
// the token's value never appears in a message.
[[nodiscard]] Result<std::unique_ptr<Backend>> make_doppler_backend(Context& context);

} // namespace secrun::backends
