#!/usr/bin/env bash
# Builds examples/CoreOnly (a service on the core products, Hardening and HardeningLog, with
# `traits: []`) from nothing, reports the wall time and the packages fetched, fails if any of the
# agent's stack was fetched, and runs the service once.
#
#   bash tools/core-build.sh [debug|release] [--default-traits]
#
# --default-traits builds the same service with the package's default traits (the Agent trait
# on), the other row of BENCHMARKS.md; then the agent's stack is fetched, and that is expected.
# Cold: a new scratch folder every run (SwiftPM's shared repository cache is kept, as on a
# developer's machine; the packages here come from a local mirror, so fetching is fast).
set -euo pipefail
configuration=debug
default_traits=0
for argument in "$@"; do
    case "$argument" in
        --default-traits) default_traits=1 ;;
        *) configuration="$argument" ;;
    esac
done
export HARDENING_DEFAULT_TRAITS=$default_traits
cd "$(dirname "$0")/../examples/CoreOnly"
scratch="$(mktemp -d /tmp/core-only-build.XXXXXX)"
logs="$(mktemp -d /tmp/core-only-logs.XXXXXX)"
# Package.resolved (git-ignored) pins what the last build resolved: a build with the other traits
# would fetch its pins too. Every run resolves afresh and leaves none behind.
rm -f Package.resolved
trap 'rm -rf "$scratch" "$logs" Package.resolved' EXIT
start=$(date +%s.%N)
swift build -c "$configuration" --scratch-path "$scratch" >"$scratch.log" 2>&1 || { cat "$scratch.log"; rm -f "$scratch.log"; exit 1; }
end=$(date +%s.%N)
rm -f "$scratch.log"
fetched="$(ls "$scratch/checkouts" | sort | tr '\n' ' ')"
echo "core-build: $configuration build from nothing in $(python3 -c "print(round($end - $start, 1))") s on $(nproc) cores"
echo "core-build: fetched $(ls "$scratch/checkouts" | wc -l) packages: $fetched"
echo "core-build: .build size $(du -sh "$scratch" | cut -f1)"
[ "$default_traits" = 1 ] || for heavy in swift-nio swift-nio-ssl hummingbird async-http-client Yams swift-argument-parser swift-crypto swift-otel swift-protobuf; do
    if [ -d "$scratch/checkouts/$heavy" ]; then
        echo "core-build: FAILED: $heavy was fetched for a core-only build" >&2
        exit 1
    fi
done
"$scratch/$configuration/CoreOnlyService" "$logs" >"$logs.out"
grep -q "^Replay: " "$logs.out" || { echo "core-build: FAILED: the service did not print its replay" >&2; cat "$logs.out"; exit 1; }
echo "core-build: the service ran and replayed $(ls "$logs" | wc -l) file(s) of its events"
rm -f "$logs.out"
