#!/usr/bin/env bash
# Event-core benchmarks: ours and the peers on the same generated workload, in one run, in
# release mode. Prints the raw lines and the ratios that BENCHMARKS.md records.
#
#   bash tools/bench/run.sh [EVENTS]      (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-1000000}"
WORK="$(mktemp -d /tmp/hardening-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
swift build -c release --product hardening-bench >/dev/null
BENCH=.build/release/hardening-bench

echo "== machine: $(nproc) cores, $(uname -r), $(swift --version 2>/dev/null | head -1)"
# Ours and zlib alone alternate, three times each; the ratio uses the medians (this machine is
# a VM whose speed drifts by several percent between runs).
pipelines=(); zlibs=()
for round in 1 2 3; do
    rm -rf "$WORK/ours"; mkdir -p "$WORK/ours"
    pipeline=$($BENCH pipeline --events "$EVENTS" --level 6 --out "$WORK/ours"); echo "$pipeline"
    zlib=$($BENCH zlib --input "$WORK/ours/raw.jsonl" --level 6); echo "$zlib"
    pipelines+=("$(sed -n 's/.*events_per_second=\([0-9.]*\).*/\1/p' <<<"$pipeline")")
    zlibs+=("$(sed -n 's/.*events_per_second=\([0-9.]*\).*/\1/p' <<<"$zlib")")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
peers=$(python3 tools/bench/peers.py "$WORK/ours/raw.jsonl" --events "$EVENTS" --out "$WORK/peers"); echo "$peers"
mkdir -p "$WORK/latency"
latency=$($BENCH emit-latency --events "$EVENTS" --rate 200000 --out "$WORK/latency"); echo "$latency"
# Peak RSS while emitting flat out into a slow (gzip -9) sink: bounded by the capacity, the same
# after 3 s and after 6 s whatever the rate.
for run in "4096 3" "65536 3" "65536 6" "262144 3"; do
    set -- $run
    rm -rf "$WORK/memory"; mkdir -p "$WORK/memory"
    $BENCH memory --capacity "$1" --seconds "$2" --out "$WORK/memory"
done

rate() { sed -n "s/.*$1.*events_per_second=\([0-9.]*\).*/\1/p" <<<"$2" | head -1; }
ours=$(median "${pipelines[@]}")
alone=$(median "${zlibs[@]}")
logging=$(rate "peer logging" "$peers")
dumps=$(rate "peer dumps" "$peers")
python3 - "$ours" "$alone" "$logging" "$dumps" <<'PY'
import sys
ours, alone, logging, dumps = map(float, sys.argv[1:])
print(f"== ratios (emit to gzip file, level 6, same events; medians of 3: ours {ours:.0f}/s, zlib alone {alone:.0f}/s)")
print(f"ours / zlib alone on the same bytes : {ours / alone:.2f}  (target >= 0.90)")
print(f"ours / Python logging + gzip rotation: {ours / logging:.1f}x (target >= 15x)")
print(f"ours / bare json.dumps + gzip loop   : {ours / dumps:.1f}x (target >= 2x)")
PY
