#!/bin/sh
# Build the libFuzzer targets with ASan + UBSan into fuzz/build (or $1).
#   fuzz/build.sh [outdir]
# FDJ_CSRC=dir builds the library from another copy of csrc/ (e.g. a snapshot
# of the last commit, so a long campaign does not pick up half-edited files).
# Needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
OUT=${1:-$HERE/build}
CSRC=${FDJ_CSRC:-$ROOT/csrc}
CC=${CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# FUZZ_COV_FLAGS: more coverage flags for the library objects, e.g. -fno-sanitize-coverage=trace-cmp
# (edge coverage and the sanitizers stay; comparison hooks were 50% of the time of the 12-bit
# targets, which run the entropy coder's table search and the 12-bit stages at every input).
COV=${FUZZ_COV_FLAGS:-}
CFLAGS="-g -O1 -fno-omit-frame-pointer -std=c99 -Wall -Wextra -Wno-unused-function $SAN"
mkdir -p "$OUT/obj"
# the library once, instrumented for coverage (fuzzer-no-link) and sanitizers
OBJS=""
for src in "$CSRC"/*.c; do
    obj="$OUT/obj/$(basename "$src" .c).o"
    stale=0
    [ -f "$obj" ] || stale=1
    for dep in "$src" "$CSRC"/*.h; do
        [ "$dep" -nt "$obj" ] && stale=1
    done
    if [ $stale = 1 ]; then
        $CC $CFLAGS -fsanitize=fuzzer-no-link $COV -I"$CSRC" -c "$src" -o "$obj"
    fi
    OBJS="$OBJS $obj"
done
for t in fuzz_decode fuzz_decode_purify fuzz_inspect fuzz_roundtrip fuzz_simd_diff fuzz_region \
    fuzz_roundtrip12; do
    $CC $CFLAGS -fsanitize=fuzzer $COV -I"$CSRC" "$HERE/$t.c" $OBJS -lm -o "$OUT/$t"
done
echo "built: $(cd "$OUT" && ls fuzz_*)"
