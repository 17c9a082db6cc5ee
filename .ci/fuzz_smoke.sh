#!/bin/sh
# Fuzz smoke run for CI (issue 8): build the libFuzzer targets with ASan+UBSan,
# replay every regression file, then a few seconds of real fuzzing per target
# over generated seeds.  Without clang or its libFuzzer runtime the fuzzing is
# skipped (with a message) and the regression files are replayed through the
# targets built with the system compiler (fuzz/replay_main.c).  Any crash,
# leak, timeout, failed invariant or sanitizer report fails (exit 1).
#   .ci/fuzz_smoke.sh [time cap per target in seconds, default 30]  (FUZZ_SMOKE_RUNS=3000 runs, seed 1)
set -eu
SECS=${1:-30}
RUNS=${FUZZ_SMOKE_RUNS:-3000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TARGETS="fuzz_decode fuzz_decode_purify fuzz_inspect fuzz_roundtrip fuzz_simd_diff fuzz_region fuzz_roundtrip12"
kind_of() { case $1 in fuzz_roundtrip*) echo roundtrip ;; *) echo decode ;; esac; }

# Without clang's libFuzzer: replay the regression files through every target
# built with the system compiler (ASan+UBSan where it has them), then stop.
replay_only() {
    why=$1
    cc=${CC:-cc}
    san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    printf 'int main(void){return 0;}\n' > "$TMP/p.c"
    "$cc" $san "$TMP/p.c" -o "$TMP/p" 2>/dev/null || san=""
    echo "fuzz smoke: fuzzing SKIPPED ($why); replaying regression files with $cc ${san:+(ASan+UBSan)}"
    st=0
    mkdir -p "$TMP/obj"
    for src in "$ROOT"/csrc/*.c; do
        # shellcheck disable=SC2086
        "$cc" -std=c99 -O1 -g $san -I"$ROOT/csrc" -c "$src" -o "$TMP/obj/$(basename "$src" .c).o" || exit 1
    done
    for t in $TARGETS; do
        # shellcheck disable=SC2086
        "$cc" -std=c99 -O1 -g $san -I"$ROOT/csrc" "$ROOT/fuzz/$t.c" "$ROOT/fuzz/replay_main.c" \
            "$TMP"/obj/*.o -lm -o "$TMP/$t" || { echo "fuzz smoke: $t does not build"; st=1; continue; }
        if ASAN_OPTIONS=detect_leaks=1 "$TMP/$t" "$ROOT/fuzz/regressions/$(kind_of $t)" > "$TMP/$t.log" 2>&1; then
            echo "fuzz smoke: $t $(tail -1 "$TMP/$t.log")"
        else
            tail -40 "$TMP/$t.log"; echo "fuzz smoke: $t FAILED on a regression file"; st=1
        fi
    done
    exit $st
}

if ! command -v "${CC:-clang}" >/dev/null 2>&1 || ! "${CC:-clang}" --version 2>/dev/null | grep -q clang; then
    CC= replay_only "no clang; Debian: apt-get install clang libclang-rt-14-dev"
fi
export CC=${CC:-clang}
probe="$TMP/probe.c"
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe" -o "$TMP/probe" 2>/dev/null; then
    replay_only "clang has no libFuzzer runtime; Debian: apt-get install libclang-rt-14-dev"
fi
echo "fuzz smoke: building targets"
"$ROOT/fuzz/build.sh" "$TMP/build" > "$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; exit 1; }
if grep -q "warning:" "$TMP/build.log"; then
    grep "warning:" "$TMP/build.log"; echo "fuzz smoke: FAILED (compiler warnings)"; exit 1
fi
mkdir -p "$TMP/seeds/decode" "$TMP/seeds/roundtrip"
python3 "$ROOT/fuzz/make_seeds.py" --out "$TMP/seeds" > "$TMP/seeds.log" 2>&1 || {
    cat "$TMP/seeds.log"; echo "fuzz smoke: seed generation failed; fuzzing the regression files only"; }
status=0
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $TARGETS; do
    kind=$(kind_of $t)
    regs=$(find "$ROOT/fuzz/regressions/$kind" -type f ! -name '*.md' 2>/dev/null | sort)
    if [ -n "$regs" ]; then
        # replay: each file runs once; any report fails the run
        # shellcheck disable=SC2086
        if ! "$TMP/build/$t" -runs=1 $regs > "$TMP/$t.replay.log" 2>&1; then
            tail -40 "$TMP/$t.replay.log"; echo "fuzz smoke: $t FAILED on a regression file"; status=1; continue
        fi
    fi
    mkdir -p "$TMP/corpus/$t"
    # a fixed seed and a fixed number of runs: the same inputs every CI run (a red CI
    # means a real regression, not an unlucky mutation); long random campaigns are
    # fuzz/run_campaign.sh's job
    if "$TMP/build/$t" -seed=1 -runs="$RUNS" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -max_len=8192 -artifact_prefix="$TMP/" "$TMP/corpus/$t" "$TMP/seeds/$kind" \
        "$ROOT/fuzz/regressions/$kind" > "$TMP/$t.log" 2>&1; then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$TMP/$t.log")
        echo "fuzz smoke: $t ok (${runs:-?} runs, seed 1, $(echo $regs | wc -w) regression files replayed)"
    else
        tail -60 "$TMP/$t.log"
        for a in "$TMP"/crash-* "$TMP"/leak-* "$TMP"/timeout-* "$TMP"/oom-*; do
            [ -f "$a" ] && echo "artifact: $a ($(wc -c < "$a") bytes, base64: $(base64 -w0 < "$a" | head -c 400))"
        done
        echo "fuzz smoke: $t FAILED"
        status=1
    fi
done
exit $status
