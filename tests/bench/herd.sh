#!/bin/sh
# The herd benchmark (tests/bench/herd.py), from a clean clone:
#
#   tests/bench/herd.sh                 200 secrun processes × 10 AWS secrets at once
#                                       against a fake limited to 300 requests/s, burst 50
#   tests/bench/herd.sh --vendor aws azure --runs 3
#   tests/bench/herd.sh --smoke         10 × 3, a gentle limit (seconds; CI)
#
# Other options go to tests/bench/herd.py (--processes, --secrets, --rps, --burst,
# --timeout ...). Writes build/ci/herd/results.md and results.json.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

docker/install-build-deps.sh
command -v python3 >/dev/null 2>&1 || { echo "herd: python3 is required" >&2; exit 1; }

# secrun and the fake cloud, from the ci preset (Release, static, -Werror).
[ -f build/ci/CMakeCache.txt ] || cmake --preset ci >/dev/null
cmake --build --preset ci -j2 --target secrun secrun_fake_cloud

exec python3 tests/bench/herd.py --build-dir build/ci "$@"
