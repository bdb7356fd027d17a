#!/usr/bin/env bash
# Replay benchmark, as users run it: whole processes, wall time, release mode, in one run.
#
#   pip install orjson duckdb polars       # the peers (optional: a missing one is skipped)
#   bash tools/bench/replay.sh [EVENTS]    # default 1000000
#
# Input: one gzip log (level 6) of EVENTS events from `hardening generate --seed 1`, and the same
# events as ten gzip segments. Each command runs three times, the commands alternating, and the
# median wall time counts: `hardening replay FILE --format json` (the CLI), inflate alone on one
# core as replay inflates (`hardening-bench inflate`: libdeflate for whole members where it is
# installed) and with zlib alone (`--zlib`: the floor the issue's target was set against), DuckDB (2 threads, one
# `read_ndjson` scan, then the sections), Polars, Python + orjson (streaming), `zcat | jq`.
# Then the ten segments on both cores against the same replay held to one (`taskset -c 0`), the
# in-process number (`hardening-bench replay`), and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-1000000}"
WORK="$(mktemp -d /tmp/hardening-replay-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
swift build -c release --product hardening-bench >/dev/null
swift build -c release --product hardening >/dev/null
BENCH=.build/release/hardening-bench
HARDENING=.build/release/hardening
$HARDENING generate --events "$EVENTS" --log-dir "$WORK/one" --file-format gzip-stream --compression-level 6 \
    --max-file-bytes 100000000000 --overflow block --seed 1 2>/dev/null
FILE="$(ls "$WORK"/one/events-*.jsonl.gz | head -1)"
SEGMENT_BYTES=$(( $(zcat "$FILE" | wc -c) / 10 + 1 ))
$HARDENING generate --events "$EVENTS" --log-dir "$WORK/ten" --max-file-bytes "$SEGMENT_BYTES" --min-rotation-interval 0 \
    --compression-delay 0 --overflow block --seed 1 2>/dev/null
sleep 1
echo "== input: $(stat -c %s "$FILE") bytes of gzip, $EVENTS events; ten segments: $(ls "$WORK/ten" | grep -c '\.gz$') gzip files"

seconds() { # runs "$@", prints its wall seconds
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
have() { python3 -c "import $1" 2>/dev/null; }

declare -A times
commands=(cli inflate zlib python jq)
have duckdb && commands+=(duckdb)
have polars && commands+=(polars)
for round in 1 2 3; do
    for name in "${commands[@]}"; do
        case $name in
            cli) t=$(seconds $HARDENING replay "$FILE" --format json) ;;
            inflate) t=$(seconds $BENCH inflate --input "$FILE") ;;
            zlib) t=$(seconds $BENCH inflate --input "$FILE" --zlib) ;;
            python) t=$(seconds python3 tools/bench/peers_replay.py "$FILE") ;;
            jq) t=$(seconds bash -c "zcat '$FILE' | jq -cn 'reduce (inputs | select(.event == \"timing.recorded\") | .attrs) as \$a ({};
                    .[\$a.operation] |= (if . == null then {count: 1, total: \$a.duration_ms, min: \$a.duration_ms, max: \$a.duration_ms}
                    else {count: (.count + 1), total: (.total + \$a.duration_ms), min: ([.min, \$a.duration_ms] | min),
                    max: ([.max, \$a.duration_ms] | max)} end))'") ;;
            duckdb) t=$(seconds python3 tools/bench/peers_replay_columnar.py duckdb "$FILE" --threads 2) ;;
            polars) t=$(seconds python3 tools/bench/peers_replay_columnar.py polars "$FILE") ;;
        esac
        times[$name]="${times[$name]:-} $t"
        echo "round $round: $name $(printf '%.3f' "$t") s"
    done
done
declare -A med
for name in "${commands[@]}"; do med[$name]=$(median ${times[$name]}); done

ten2=(); ten1=()
for round in 1 2 3; do
    ten2+=("$(seconds $HARDENING replay "$WORK/ten" --format json)")
    ten1+=("$(seconds taskset -c 0 $HARDENING replay "$WORK/ten" --format json)")
done
in_process=$($BENCH replay --input "$FILE"); echo "$in_process"
rss_one=$( { /usr/bin/time -f "%M" $HARDENING replay "$FILE" --format json >/dev/null; } 2>&1 | tail -1)
rss_ten=$( { /usr/bin/time -f "%M" $HARDENING replay "$WORK/ten" --format json >/dev/null; } 2>&1 | tail -1)

python3 - "$EVENTS" "$(median "${ten2[@]}")" "$(median "${ten1[@]}")" "$rss_one" "$rss_ten" \
    "${med[cli]}" "${med[inflate]}" "${med[python]}" "${med[jq]}" "${med[duckdb]:-0}" "${med[polars]:-0}" "${med[zlib]}" <<'PY'
import sys
events = int(sys.argv[1])
ten2, ten1, rss_one, rss_ten = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
cli, inflate, python, jq, duckdb, polars, zlib = map(float, sys.argv[6:13])
print(f"== medians of 3, whole processes (wall s): cli {cli:.3f}, inflate alone {inflate:.3f} (zlib alone {zlib:.3f}), python+orjson {python:.3f}, "
      f"zcat|jq {jq:.3f}, duckdb {duckdb:.3f}, polars {polars:.3f}")
print(f"cli: {events / cli / 1e6:.2f} M events/s")
if duckdb: print(f"cli vs DuckDB (2 threads): {duckdb / cli:.2f}x faster (target >= 2x)")
if polars: print(f"cli vs Polars: {polars / cli:.2f}x faster")
print(f"cli / inflate alone (throughput): {inflate / cli:.2f}; / zlib inflate alone: {zlib / cli:.2f} (target >= 0.6)")
print(f"cli vs zcat | jq: {jq / cli:.1f}x faster (target >= 10x)")
print(f"cli vs Python + orjson: {python / cli:.1f}x faster (target >= 4x)")
print(f"ten segments, 2 cores {ten2:.3f} s vs one core {ten1:.3f} s: {ten1 / ten2:.2f}x (target >= 1.6x)")
print(f"peak RSS: one file {rss_one / 1024:.1f} MiB, ten segments {rss_ten / 1024:.1f} MiB (target <= 32 MiB)")
PY
