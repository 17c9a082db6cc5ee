#!/bin/sh
# Line coverage of csrc/ reached by the fuzz corpora (gcc --coverage + gcov),
# replayed with fuzz/replay_main.c (no sanitizers, no libFuzzer).
#   fuzz/coverage.sh [workdir]      (default fuzz/work; corpora in $workdir/corpus/<target>)
# Prints per-file and total line coverage for all targets together.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=${1:-$HERE/work}
CSRC=${FDJ_CSRC:-$ROOT/csrc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
for src in "$CSRC"/*.c; do
    gcc -std=c99 -O0 --coverage -I"$CSRC" -c "$src" -o "$(basename "$src" .c).o"
done
for t in fuzz_decode fuzz_decode_purify fuzz_inspect fuzz_roundtrip fuzz_simd_diff fuzz_region; do
    [ -d "$WORK/corpus/$t" ] || continue
    gcc -std=c99 -O0 --coverage -I"$CSRC" "$HERE/$t.c" "$HERE/replay_main.c" ./*.o -lm -o "r_$t" 2>/dev/null \
        || gcc -std=c99 -O0 --coverage -I"$CSRC" -o "r_$t" "$HERE/$t.c" "$HERE/replay_main.c" $(ls ./*.o | grep -v "fuzz_\|replay_") -lm
    echo "$t: $(./"r_$t" "$WORK/corpus/$t")"
done
gcov -n ./*.o 2>/dev/null | awk '
    /^File .*csrc\// { f = $2; gsub(/\047/, "", f); n = split(f, a, "/"); name = a[n] }
    /^Lines executed:/ && name != "" {
        split($2, p, "%"); sub(/.*:/, "", p[1]); pct = p[1]; lines = $4;
        covered = pct * lines / 100; tot += lines; cov += covered;
        printf "%-22s %6.1f%% of %5d lines\n", name, pct, lines; name = "" }
    END { if (tot) printf "%-22s %6.1f%% of %5d lines\n", "TOTAL csrc", 100 * cov / tot, tot }'
