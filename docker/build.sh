#!/bin/sh
# Installs what is missing, then configures and builds one CMake preset:
#   docker/build.sh dist     secrun alone (what the README's run command and the Dockerfile use)
#   docker/build.sh ci       secrun and its tests, warnings as errors
#   docker/build.sh asan     clang, Debug, ASan + UBSan: the tests and the fuzz targets
set -eu
cd "$(dirname "$0")/.."
preset=${1:-dist}
if [ "$preset" = dist ]; then
    docker/install-build-deps.sh
else
    docker/install-build-deps.sh --test
fi
# ccache, when installed (it is not required), makes rebuilds cheap.
if command -v ccache >/dev/null 2>&1; then
    export CMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}"
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
