#!/bin/sh
# Short fuzzing run of the event decoder + book harness (fuzz/fuzz_decode.c).
#
# Configures and builds the `fuzz` preset (clang, libFuzzer, ASan + UBSan,
# build dir build-fuzz), then fuzzes for FUZZ_SECONDS (default 60) starting
# from a COPY of fuzz/corpus/decode in a temporary directory: new inputs
# libFuzzer finds are thrown away with it and never written into the repo's
# corpus. Crash reproducers go to fuzz/artifacts/ (gitignored); add a
# minimal one to fuzz/corpus/decode/ by hand once the bug is understood.
#
# Exits non-zero when the build fails or the fuzzer finds a crash, a leak,
# a timeout or a broken invariant (including on the seed corpus itself).
# Environment: FUZZ_SECONDS (run time), FUZZ_ARGS (extra libFuzzer flags),
# WD_FUZZ_SKIP (harness checks to switch off while a known bug is open,
# e.g. "json,unchanged"; see fuzz/fuzz_decode.c).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-60}

cmake --preset fuzz
cmake --build --preset fuzz -j "$(nproc 2>/dev/null || echo 2)" --target fuzz_decode

work=$(mktemp -d "${TMPDIR:-/tmp}/warden-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
cp -R fuzz/corpus/decode "$work/corpus"
mkdir -p fuzz/artifacts

echo "fuzz-short: fuzzing for ${seconds}s over a copy of fuzz/corpus/decode (log: $work/fuzz.log)"
rc=0
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
build-fuzz/fuzz/fuzz_decode \
    -max_total_time="$seconds" \
    -max_len=9000 \
    -timeout=10 \
    -print_final_stats=1 \
    -artifact_prefix="$root/fuzz/artifacts/" \
    ${FUZZ_ARGS:-} \
    "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?

if [ "$rc" -ne 0 ]; then
    # The sanitizer report or the broken invariant is at the end.
    tail -n 60 "$work/fuzz.log" >&2
    echo "fuzz-short: FAILED (exit $rc); reproducers in fuzz/artifacts/:" >&2
    ls -l fuzz/artifacts/ >&2 || true
    exit 1
fi
grep -E '^(#[0-9]+[[:space:]]+DONE|stat::)' "$work/fuzz.log" || true
echo "fuzz-short: no crash in ${seconds}s ($(ls "$work/corpus" | wc -l) corpus entries at the end)"
