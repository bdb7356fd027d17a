#!/usr/bin/env bash
# Replay benchmark: one gzip log (level 6) of EVENTS events from `hardening generate`; ours
# (`Replay` to the JSON summary), inflate alone, Python (orjson) and `zcat | jq` computing the
# per-operation count/mean/min/max with a streaming reduce. In one run, release mode.
#
#   bash tools/bench/replay.sh [EVENTS]      (default 1000000; pip install orjson for the Python peer)
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-1000000}"
WORK="$(mktemp -d /tmp/hardening-replay-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
swift build -c release --product hardening-bench >/dev/null
swift build -c release --product hardening >/dev/null
BENCH=.build/release/hardening-bench
.build/release/hardening generate --events "$EVENTS" --log-dir "$WORK/logs" --file-format gzip-stream \
    --compression-level 6 --max-file-bytes 100000000000 --overflow block --seed 1 2>/dev/null
FILE="$WORK/logs/events.jsonl.gz"
echo "== input: $(stat -c %s "$FILE") bytes of gzip, $EVENTS events"
ours=(); inflates=()
for round in 1 2 3; do
    line=$($BENCH inflate --input "$FILE"); echo "$line"
    inflates+=("$(sed -n 's/.*events_per_second=\([0-9.e+]*\).*/\1/p' <<<"$line")")
    line=$($BENCH replay --input "$FILE"); echo "$line"
    ours+=("$(sed -n 's/.*events_per_second=\([0-9.e+]*\).*/\1/p' <<<"$line")")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
python=$(python3 tools/bench/peers_replay.py "$FILE"); echo "$python"
start=$(date +%s.%N)
zcat "$FILE" | jq -cn 'reduce (inputs | select(.event == "timing.recorded") | .attrs) as $a ({};
    .[$a.operation] |= (if . == null then {count: 1, total: $a.duration_ms, min: $a.duration_ms, max: $a.duration_ms}
        else {count: (.count + 1), total: (.total + $a.duration_ms), min: ([.min, $a.duration_ms] | min), max: ([.max, $a.duration_ms] | max)} end))
    | map_values(.mean = .total / .count)' >/dev/null
jq_seconds=$(echo "$(date +%s.%N) - $start" | bc -l)
lines=$(zcat "$FILE" | wc -l)
echo "peer_replay_jq events=$lines seconds=$jq_seconds events_per_second=$(echo "$lines / $jq_seconds" | bc -l)"
python3 - "$(median "${ours[@]}")" "$(median "${inflates[@]}")" "$(sed -n 's/.*events_per_second=\([0-9.e+]*\).*/\1/p' <<<"$python")" "$(echo "$lines / $jq_seconds" | bc -l)" <<'PY'
import sys
ours, inflate, python, jq = map(float, sys.argv[1:])
print(f"ratio ours/inflate-alone: {ours / inflate:.2f} (inflate is {inflate / ours:.2f}x faster; target within 2.5x)")
print(f"ratio ours/python-orjson: {ours / python:.1f}x (target 3x)")
print(f"ratio ours/zcat|jq: {ours / jq:.1f}x (target 12x)")
print(f"ours: {ours:,.0f} events/s (target 2,500,000)")
PY
