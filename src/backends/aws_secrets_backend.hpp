// The aws_secrets backend: AWS Secrets Manager over its JSON protocol
// (awsJson1_1, SigV4-signed), shared/protocols/aws.md §1.
//
// prepare() reads the configuration, resolves the region and the
// credentials once for every secret, and with --aws-batch prefetches
// AWSCURRENT values with BatchGetSecretValue (20 per call). fetch() calls
// GetSecretValue for everything else; the resolver runs those concurrently.
#pragma once

#include "backends/backend.hpp"
#include "https/client.hpp"

#include <memory>

namespace secrun::backends {

[[nodiscard]] std::unique_ptr<Backend> make_aws_secrets_backend(Context& context);

} // namespace secrun::backends
