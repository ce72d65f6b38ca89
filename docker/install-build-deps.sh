#!/bin/sh
# Installs what secrun needs to build (and, with --test, to run its tests) on
# Debian bookworm. Idempotent: installs only what is missing. People, the
# Dockerfile and CI all run this one script.
set -eu

packages="g++ cmake make ca-certificates libssl-dev libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev"
if [ "${1:-}" = "--test" ]; then
    # libboost-test: the unit and end-to-end tests. curl, python3-botocore and
    # python3-azure: independent official clients that check our fake cloud
    # servers behave like the real services (those tests skip when absent).
    # hyperfine: the benchmarks. clang and its runtimes (libFuzzer, ASan,
    # UBSan) and llvm (llvm-symbolizer, for readable sanitizer reports): the
    # sanitizer build of the tests and the fuzz targets.
    packages="$packages libboost-test1.81-dev curl python3 python3-botocore python3-azure hyperfine"
    packages="$packages clang libclang-rt-14-dev llvm"
fi

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-build-deps: need root (or sudo) to install:$missing" >&2; exit 1; }
    sudo="sudo"
fi
echo "install-build-deps: installing$missing" >&2
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
