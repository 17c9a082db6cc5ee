#!/bin/sh
# A fuzzing campaign on ONE core at low priority, target by target, until a deadline.
#   fuzz/run_campaign.sh DEADLINE_EPOCH [slice plan...]
# A plan item is target:minutes (default: the rotation below).  Before each slice
# the library is rebuilt from a snapshot of the last commit (git archive HEAD),
# so edits in progress in the working tree are never fuzzed.  Corpora grow in
# fuzz/work/corpus/<target>, crashes land in fuzz/work/artifacts/<target>/,
# logs in fuzz/work/logs/.  A crash ends only the current run: the slice resumes.
# fuzz_atheris runs fuzz/fuzz_atheris.py against the in-place Python build.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=$HERE/work
DEADLINE=$1
shift
PLAN=${*:-"fuzz_decode:30 fuzz_decode_purify:12 fuzz_simd_diff:12 fuzz_inspect:5 fuzz_roundtrip:12 fuzz_atheris:8 fuzz_decode:60"}
mkdir -p "$WORK/logs" "$WORK/snap"
n=0
for item in $PLAN; do
    t=${item%%:*}
    mins=${item##*:}
    now=$(date +%s)
    [ "$now" -ge "$DEADLINE" ] && break
    n=$((n + 1))
    rev=$(git -C "$ROOT" rev-parse --short HEAD)
    rm -rf "$WORK/snap/csrc"
    git -C "$ROOT" archive HEAD csrc | tar -x -C "$WORK/snap"
    FDJ_CSRC="$WORK/snap/csrc" nice -n 15 "$HERE/build.sh" "$WORK/build" > "$WORK/logs/build-$n.log" 2>&1 || {
        echo "$(date -u +%H:%M:%S) slice $n: build failed at $rev" >> "$WORK/logs/campaign.log"; sleep 60; continue; }
    case $t in
        fuzz_roundtrip) seeds="$WORK/seeds/roundtrip" ;;
        *) seeds="$WORK/seeds/decode" ;;
    esac
    mkdir -p "$WORK/corpus/$t" "$WORK/artifacts/$t"
    end=$((now + mins * 60))
    [ "$end" -gt "$DEADLINE" ] && end=$DEADLINE
    part=0
    while :; do
        left=$((end - $(date +%s)))
        [ "$left" -lt 10 ] && break
        part=$((part + 1))
        log="$WORK/logs/$t-$n-$part.log"
        echo "$(date -u +%H:%M:%S) slice $n.$part: $t for ${left}s at $rev" >> "$WORK/logs/campaign.log"
        if [ "$t" = fuzz_atheris ]; then
            bin="python3 $HERE/fuzz_atheris.py"   # the Python API over the in-place build
        else
            bin="$WORK/build/$t"
        fi
        (cd "$WORK/artifacts/$t" && nice -n 15 $bin -max_total_time="$left" -timeout=10 \
            -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=${FUZZ_MAX_LEN:-8192} -print_final_stats=1 \
            -artifact_prefix="$WORK/artifacts/$t/" "$WORK/corpus/$t" "$seeds" > "$log" 2>&1)
        rc=$?
        echo "$(date -u +%H:%M:%S) slice $n.$part: $t exit $rc" >> "$WORK/logs/campaign.log"
        # a crash within a minute is most likely a known one among the seeds or the
        # corpus: give the slice up rather than loop on it (triage the artifacts)
        if [ "$rc" -ne 0 ] && [ $((left - (end - $(date +%s)))) -lt 60 ]; then
            echo "$(date -u +%H:%M:%S) slice $n: $t crashes at once, slice abandoned" >> "$WORK/logs/campaign.log"
            break
        fi
    done
done
echo "$(date -u +%H:%M:%S) campaign done" >> "$WORK/logs/campaign.log"
