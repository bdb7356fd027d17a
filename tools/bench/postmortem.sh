#!/usr/bin/env bash
# What the post-mortem sections cost replay: the same in-process replay of one gzip log to the
# JSON report, with and without them (`hardening-bench replay --no-post-mortem`), alternating,
# in release mode; medians of CPU time (task-clock: every thread) and of wall time.
#
#   bash tools/bench/postmortem.sh [EVENTS] [PAIRS]     # default 1000000 events, 7 pairs
#
# The input is `hardening generate --seed 1`'s synthetic workload: about 40% of its events are
# failures, transitions, alerts or fallbacks (a production log holds far fewer), so this is the
# sections' worst case: every notable event is looked at, thousands of periods are reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-1000000}"
PAIRS="${2:-7}"
WORK="$(mktemp -d /tmp/hardening-postmortem-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
swift build -c release --product hardening-bench >/dev/null 2>&1
swift build -c release --product hardening >/dev/null 2>&1
.build/release/hardening generate --events "$EVENTS" --log-dir "$WORK/one" --file-format gzip-stream --compression-level 6 \
    --max-file-bytes 100000000000 --overflow block --seed 1 2>/dev/null
FILE="$(ls "$WORK"/one/events-*.jsonl.gz | head -1)"
measure() { # prints "cpu_ms wall_s" of one run of hardening-bench replay "$@"
    perf stat -x, -e task-clock -o "$WORK/stat" .build/release/hardening-bench replay --input "$FILE" "$@" > "$WORK/out"
    echo "$(cut -d, -f1 < <(grep task-clock "$WORK/stat")) $(grep -o 'seconds=[0-9.]*' "$WORK/out" | cut -d= -f2)"
}
on_cpu=(); off_cpu=(); on_wall=(); off_wall=()
for _ in $(seq "$PAIRS"); do
    read -r cpu wall < <(measure); on_cpu+=("$cpu"); on_wall+=("$wall")
    read -r cpu wall < <(measure --no-post-mortem); off_cpu+=("$cpu"); off_wall+=("$wall")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
on_c=$(median "${on_cpu[@]}"); off_c=$(median "${off_cpu[@]}"); on_w=$(median "${on_wall[@]}"); off_w=$(median "${off_wall[@]}")
echo "with the post-mortem:    cpu ${on_c} ms, wall ${on_w} s  ($(.build/release/hardening-bench replay --input "$FILE" | grep -o 'json_bytes=[0-9]* max_rss_mib=[0-9.]*'))"
echo "without:                 cpu ${off_c} ms, wall ${off_w} s  ($(.build/release/hardening-bench replay --input "$FILE" --no-post-mortem | grep -o 'json_bytes=[0-9]* max_rss_mib=[0-9.]*'))"
echo "cost: cpu $(echo "scale=3; ($on_c / $off_c - 1) * 100" | bc -l)%, wall $(echo "scale=3; ($on_w / $off_w - 1) * 100" | bc -l)%"
