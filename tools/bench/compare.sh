#!/usr/bin/env bash
# Emit → bus → encode → gzip-stream file throughput of two builds, interleaved on the same
# machine, with zlib alone and libdeflate alone (what the sink compresses with where it is
# installed) on the same bytes as the references; prints the medians of 3.
#
#   git worktree add /tmp/base <commit> && (cd /tmp/base && swift build -c release --product hardening-bench)
#   swift build -c release --product hardening-bench
#   bash tools/bench/compare.sh /tmp/base/.build/release/hardening-bench .build/release/hardening-bench [EVENTS]
set -euo pipefail
BASE="$1"; NEW="$2"; EVENTS="${3:-1000000}"
WORK="$(mktemp -d /tmp/hardening-compare-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
rate() { sed -n 's/.*events_per_second=\([0-9.]*\).*/\1/p'; }
bases=(); news=(); zlibs=(); libdeflates=()
for round in 1 2 3; do
    rm -rf "$WORK/o"; mkdir -p "$WORK/o"; bases+=("$("$BASE" pipeline --events "$EVENTS" --level 6 --out "$WORK/o" | rate)")
    rm -rf "$WORK/o"; mkdir -p "$WORK/o"; news+=("$("$NEW" pipeline --events "$EVENTS" --level 6 --out "$WORK/o" | rate)")
    zlibs+=("$("$NEW" zlib --input "$WORK/o/raw.jsonl" --level 6 | rate)")
    libdeflates+=("$("$NEW" zlib --libdeflate --input "$WORK/o/raw.jsonl" --level 6 | rate)")
    echo "round $round: base ${bases[-1]}/s, new ${news[-1]}/s, zlib alone ${zlibs[-1]}/s, libdeflate alone ${libdeflates[-1]}/s"
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
python3 - "$(median "${bases[@]}")" "$(median "${news[@]}")" "$(median "${zlibs[@]}")" "$(median "${libdeflates[@]}")" <<'PY'
import sys
base, new, zlib, libdeflate = map(float, sys.argv[1:])
print(f"medians: base {base:.0f}/s, new {new:.0f}/s, zlib alone {zlib:.0f}/s, libdeflate alone {libdeflate:.0f}/s")
print(f"new / base {new / base:.2f}; base / zlib alone {base / zlib:.2f}; new / zlib alone {new / zlib:.2f} (target >= 0.90); "
      f"new / libdeflate alone {new / libdeflate:.2f}")
PY
