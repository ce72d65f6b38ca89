#!/bin/sh
# The secrun benchmarks, from a clean clone:
#
#   tests/bench/run.sh            the full run (a few minutes): prints the table,
#                                 writes build/bench/results.md, results.json, latest.svg
#   tests/bench/run.sh --smoke    N = 1, one run, no third-party tools (seconds; CI)
#
#   tests/bench/run.sh --chart tests/bench/latest.svg
#                                 the full run, also refreshing the README's chart
#
# Other options go to tests/bench/bench.py (--runs, --remote-runs, --backends ...).
# It installs what it needs when it can (Debian packages with apt-get as root or
# with sudo; the node peers with npm into build/bench/npm) and otherwise goes on:
# the bench skips a contender it cannot run and says so under the table.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

smoke=no
for arg in "$@"; do
    [ "$arg" = "--smoke" ] && smoke=yes
done

# Build tools, libraries and python3. With --test it also brings the benchmark's
# Python SDK contenders (python3-botocore, python3-azure) and hyperfine.
if [ "$smoke" = yes ]; then
    docker/install-build-deps.sh
else
    docker/install-build-deps.sh --test ||
        echo "bench: could not install the test packages; contenders that need them are skipped" >&2
    # boto3 and the AWS CLI: the "what users write today" contenders for AWS,
    # from Debian when no python3 on PATH has them already.
    want=""
    python3 -c 'import boto3' 2>/dev/null || /usr/bin/python3 -c 'import boto3' 2>/dev/null ||
        want="python3-boto3"
    command -v aws >/dev/null 2>&1 || want="$want awscli"
    if [ -n "$want" ]; then
        if [ "$(id -u)" -eq 0 ]; then
            # shellcheck disable=SC2086
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $want >/dev/null ||
                echo "bench: could not install$want; those contenders are skipped" >&2
        else
            echo "bench: not root, not installing$want; those contenders are skipped" >&2
        fi
    fi
fi
command -v python3 >/dev/null 2>&1 || { echo "bench: python3 is required" >&2; exit 1; }

# secrun and the fake cloud, from the ci preset (Release, static, -Werror).
[ -f build/ci/CMakeCache.txt ] || cmake --preset ci >/dev/null
cmake --build --preset ci -j2 --target secrun secrun_fake_cloud peak_rss

# The node peers, pinned, in a cache directory of their own.
if [ "$smoke" = no ]; then
    npm_dir=build/bench/npm
    if [ ! -x "$npm_dir/node_modules/.bin/dotenvx" ] || [ ! -x "$npm_dir/node_modules/.bin/dotenv" ]; then
        if command -v npm >/dev/null 2>&1; then
            mkdir -p "$npm_dir"
            npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error \
                @dotenvx/dotenvx@2.38.2 dotenv-cli@11.0.0 >/dev/null ||
                echo "bench: npm install failed; dotenvx and dotenv-cli are skipped" >&2
        else
            echo "bench: npm not found; dotenvx and dotenv-cli are skipped" >&2
        fi
    fi
fi

exec python3 tests/bench/bench.py --build-dir build/ci --out build/bench "$@"
