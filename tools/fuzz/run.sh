#!/usr/bin/env bash
# Fuzzes the line decoder and the gzip reader for a bounded time (default 60 s per seed, two
# seeds in parallel on the two cores), in release mode with assertions on. Exit 0: nothing found.
#
#   bash tools/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN="${1:-60}"
swift build -c release -Xswiftc -enable-testing --product hardening-fuzz >/dev/null
status=0
.build/release/hardening-fuzz "$SECONDS_PER_RUN" 1 /tmp/hardening-fuzz-crash-1.bin & first=$!
.build/release/hardening-fuzz "$SECONDS_PER_RUN" 2 /tmp/hardening-fuzz-crash-2.bin & second=$!
wait "$first" || status=$?
wait "$second" || status=$?
if [ "$status" != 0 ]; then
    echo "fuzz: found something; a crashing input is in /tmp/hardening-fuzz-crash-*.bin" >&2
fi
exit "$status"
