#!/bin/sh
# The README's test command, which CI (.ci/run) runs as it is:
#   1. installs what is missing, builds secrun and its tests as users get them
#      (the ci preset: Release, static, warnings as errors) and runs every test;
#   2. builds them again with clang under AddressSanitizer + UBSan (the asan
#      preset, which also builds the libFuzzer targets) and runs the whole
#      suite again, plus each fuzz target for a few seconds from its seeds.
# CTest prints its summary after each pass; the first failure stops the run.
#
#   docker/ci.sh            both passes (what CI runs)
#   docker/ci.sh --quick    the first pass only
set -eu
cd "$(dirname "$0")/.."
docker/build.sh ci
ctest --preset ci
[ "${1:-}" = --quick ] && exit 0
docker/build.sh asan
ctest --preset asan
