#!/bin/sh
# The README's test command: installs what is missing, builds secrun and its
# tests with warnings as errors, and runs every test (CTest prints its summary).
# SECRUN_ASAN=1 also runs the whole suite under AddressSanitizer + UBSan.
set -eu
cd "$(dirname "$0")/.."
docker/build.sh ci
ctest --preset ci
if [ "${SECRUN_ASAN:-0}" = 1 ]; then
    docker/build.sh asan
    ctest --preset asan
fi
