// The default backend: the process environment, then dotenv files.
#pragma once

#include "backends/backend.hpp"

namespace secrun::backends {

// Precedence for a key: the inherited environment first (as the dotenv
// package and docker compose do: what the caller set explicitly wins), then
// the dotenv files, later files over earlier ones.
[[nodiscard]] std::unique_ptr<Backend> make_env_backend(Context& context);

// Reads one dotenv file (bounded in size); warns when it is readable by group
// or others. Errors are "FILE: reason" or the parser's "FILE:LINE:COL: ...".
[[nodiscard]] Result<SecretMap> read_dotenv_file(const std::string& path, Errors& errors);

} // namespace secrun::backends
