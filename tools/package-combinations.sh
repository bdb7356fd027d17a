#!/usr/bin/env bash
# Builds a service that depends on this repository as README's "Using the library" says, once
# for each trait combination, with every product that combination offers:
#
#   traits: []        Hardening, HardeningLog, HardeningTestKit, HardeningOTel (no exporter);
#                     a target that names HardeningAgent stops at its #error, which says why
#   traits: ["OTLP"]  the same, with HardeningOTel's OTLP exporter
#   traits: ["Agent"] the same as [], with HardeningAgent
#   default           everything
#
# The service's main.swift is README's library snippet as written (imports included), and the
# service declares swift-log and swift-service-lifecycle as README does. One scratch folder
# serves every combination, so what a trait does not change is built once. Prints each build's
# seconds; exits 1 at the first combination that does not build (or an Agent refusal that does
# not say why).
#
#   bash tools/package-combinations.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/package-combinations.XXXXXX)"
trap 'rm -rf "$work"' EXIT
identity="$(basename "$repo")"
consumer="$work/service"
mkdir -p "$consumer/Sources/Service" "$consumer/Sources/KitUse" "$consumer/Sources/OTelUse" "$consumer/Sources/AgentUse" \
    "$consumer/Sources/AgentRefused"

# README's library snippet: the Swift block that imports ServiceLifecycle.
python3 - "$repo/README.md" "$consumer/Sources/Service/main.swift" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"```swift\n(.*?)```", text, re.S)
snippet = next(b for b in blocks if "import ServiceLifecycle" in b and "import HardeningLog" in b)
open(sys.argv[2], "w", encoding="utf-8").write(snippet)
PY
cat > "$consumer/Sources/KitUse/KitUse.swift" <<'SWIFT'
import HardeningTestKit

public func makeClock() -> ManualClock { ManualClock() }
SWIFT
cat > "$consumer/Sources/AgentUse/AgentUse.swift" <<'SWIFT'
import HardeningAgent

public let configurationType = AgentConfiguration.self
SWIFT
cp "$consumer/Sources/AgentUse/AgentUse.swift" "$consumer/Sources/AgentRefused/AgentRefused.swift"

write_manifest() {  # $1: the traits, as Swift; $2: whether OTLP is on; $3: whether Agent is on
    local otel='import HardeningOTel

public let environmentType = OTLPEnvironment.self'
    [ "$2" = 1 ] && otel="$otel
public let exportType = OTLPExport.self"
    printf '%s\n' "$otel" > "$consumer/Sources/OTelUse/OTelUse.swift"
    local agent_targets=""
    if [ "$3" = 1 ]; then
        agent_targets='.target(name: "AgentUse", dependencies: [.product(name: "HardeningAgent", package: "'"$identity"'")]),'
    else
        agent_targets='.target(name: "AgentRefused", dependencies: [.product(name: "HardeningAgent", package: "'"$identity"'")]),'
    fi
    cat > "$consumer/Package.swift" <<SWIFT
// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "service",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "$repo", traits: $1),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(name: "Service", dependencies: [
            .product(name: "Hardening", package: "$identity"),
            .product(name: "HardeningLog", package: "$identity"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "KitUse", dependencies: [.product(name: "HardeningTestKit", package: "$identity")]),
        .target(name: "OTelUse", dependencies: [.product(name: "HardeningOTel", package: "$identity")]),
        $agent_targets
    ]
)
SWIFT
    # Package.resolved pins what the last combination resolved: resolve each afresh.
    rm -f "$consumer/Package.resolved"
}

build() {  # $@: swift build's arguments
    swift build --package-path "$consumer" --scratch-path "$work/.build" "$@"
}

status=0
for combination in "[]:0:0" '["OTLP"]:1:0' '["Agent"]:0:1' "[.defaults]:1:1"; do
    IFS=: read -r traits otlp agent <<< "$combination"
    write_manifest "$traits" "$otlp" "$agent"
    start=$(date +%s.%N)
    targets=(--target Service --target KitUse --target OTelUse)
    [ "$agent" = 1 ] && targets+=(--target AgentUse)
    if ! build "${targets[@]}" > "$work/build.log" 2>&1; then
        echo "traits $traits: the build failed"; tail -40 "$work/build.log"; status=1; break
    fi
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    echo "traits $traits: built Service (README's snippet), KitUse, OTelUse$([ "$agent" = 1 ] && echo ", AgentUse") in ${seconds%.*} s"
    if [ "$agent" = 0 ]; then
        if build --target AgentRefused > "$work/refused.log" 2>&1; then
            echo "traits $traits: HardeningAgent built without the Agent trait"; status=1; break
        fi
        if ! grep -q "HardeningAgent needs the swift-hardening package trait Agent" "$work/refused.log"; then
            echo "traits $traits: HardeningAgent failed without saying why:"; tail -20 "$work/refused.log"; status=1; break
        fi
        echo "traits $traits: a target that names HardeningAgent stops at its #error, which says why"
    fi
done
exit $status
