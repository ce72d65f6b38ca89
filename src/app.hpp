// run(): secrun's whole pipeline, as a sequence of commented steps (mold's
// main shape). It returns an exit status when the command is not exec'd.
#pragma once

#include "exec/exec.hpp"

namespace secrun::app {

// `envp` is the environment secrun was started with; `signals` the signal
// state captured at the very start of main, restored before the command runs.
[[nodiscard]] int run(int argc, const char* const* argv, const char* const* envp,
                      const exec::SignalState& signals);

} // namespace secrun::app
