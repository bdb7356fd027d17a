#!/usr/bin/env bash
# Success-path cost of the primitives, ours and the peers' (tenacity's @retry, pybreaker's call)
# in one run, in release mode; prints the raw lines and the ratios that BENCHMARKS.md records.
#
#   bash tools/bench/primitives.sh [CALLS]      (default 5000000; needs pip install tenacity pybreaker)
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS="${1:-5000000}"
swift build -c release --product hardening-bench >/dev/null
ours=$(.build/release/hardening-bench primitives --calls "$CALLS"); echo "$ours"
peers=$(python3 tools/bench/peers_primitives.py); echo "$peers"
python3 - "$ours" "$peers" <<'PY'
import re, sys
ours = dict(re.findall(r"(\w+)=([-0-9.e]+)", sys.argv[1]))
peers = dict(re.findall(r"(\w+)=([-0-9.e]+)", sys.argv[2]))
f = lambda d, k: float(d[k])
tenacity_over = f(peers, "tenacity") - f(peers, "bare")
pybreaker_over = f(peers, "pybreaker") - f(peers, "bare")
rows = [
    ("async retry, default policy", f(ours, "retry_overhead"), f(ours, "retry"), tenacity_over, f(peers, "tenacity"), 30),
    ("async retry, no elapsed limit", f(ours, "retry_no_limit_overhead"), f(ours, "bare") + f(ours, "retry_no_limit_overhead"), tenacity_over, f(peers, "tenacity"), 30),
    ("blocking retry, default policy", f(ours, "retry_sync_overhead"), f(ours, "retry_sync"), tenacity_over, f(peers, "tenacity"), 10),
    ("blocking retry, no elapsed limit", f(ours, "retry_sync_no_limit_overhead"), f(ours, "bare_sync") + f(ours, "retry_sync_no_limit_overhead"), tenacity_over, f(peers, "tenacity"), 10),
    ("closed breaker", f(ours, "breaker_overhead"), f(ours, "breaker"), pybreaker_over, f(peers, "pybreaker"), 40),
]
print(f"one ContinuousClock.now read: {f(ours, 'clock_read'):.1f} ns (what an elapsed limit adds)")
print("ratios: name | our overhead ns | target ns | peer overhead ns | overhead ratio | per-call ratio")
for name, over, total, peer_over, peer_total, target in rows:
    shown = max(over, 0.5)  # a negative or tiny difference is measurement noise
    print(f"ratio {name}: {over:.1f} ns (target <= {target}) | peer {peer_over:.0f} ns | {peer_over / shown:.0f}x | {peer_total / total:.0f}x")
PY
