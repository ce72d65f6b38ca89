#!/bin/sh
# Builds the `fuzz` preset (clang, libFuzzer, ASan + UBSan) and runs every
# fuzz target for SECONDS each (default 10) over its corpus, one after the
# other, printing one line per target. New inputs go to build/fuzz/corpus/,
# crash reproducers and logs to build/fuzz/artifacts/ and build/fuzz/logs/;
# the committed seeds in tests/fuzz/corpus/ are only read.
# Exit status: 0 when no target found anything, 1 otherwise.
#
#   tests/fuzz/run.sh          # 10 s per target
#   tests/fuzz/run.sh 60       # a minute each
#
# SECRUN_FUZZ_PRESET=asan uses the asan preset's build (the tests' sanitizer
# build, which has the fuzz targets too) instead of building the fuzz preset.
set -eu

seconds=${1:-10}
case $seconds in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
preset=${SECRUN_FUZZ_PRESET:-fuzz}
cmake --preset "$preset" >/dev/null
if [ "$preset" = fuzz ]; then
    cmake --build --preset fuzz -j"${SECRUN_FUZZ_JOBS:-2}"
else
    cmake --build --preset "$preset" -j"${SECRUN_FUZZ_JOBS:-2}" --target secrun_fuzzers
fi

build=build/$preset
mkdir -p "$build/corpus" "$build/artifacts" "$build/logs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=0
for seeds in tests/fuzz/corpus/*/; do
    name=$(basename "$seeds")
    fuzzer="$build/tests/fuzz/fuzz_$name"
    log="$build/logs/$name.log"
    mkdir -p "$build/corpus/$name"
    status=0
    "$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$name-" \
        "$build/corpus/$name" "$seeds" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(ls "$build/corpus/$name" | wc -l)
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        result="FAILED (status $status; see $log)"
        failed=1
    fi
    printf '%-22s %12s execs  %5s new inputs  %s\n' "$name" "${execs:-?}" "$corpus" "$result"
done
exit "$failed"
