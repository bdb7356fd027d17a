#!/usr/bin/env bash
# Builds the DocC documentation of the Hardening module (the catalog in
# Sources/Hardening/Hardening.docc, with the event schema article) into .build/docs, with the
# toolchain's own `docc`: no plugin needed. Prints DocC's warnings; exits non-zero on any.
set -euo pipefail
cd "$(dirname "$0")/.."
graphs=.build/symbol-graphs
rm -rf "$graphs" .build/docs && mkdir -p "$graphs/all" "$graphs/hardening"
swift build --target Hardening -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs/all"
cp "$graphs"/all/Hardening*.symbols.json "$graphs/hardening/"
log=$(docc convert Sources/Hardening/Hardening.docc --additional-symbol-graph-dir "$graphs/hardening" \
    --output-path .build/docs --fallback-display-name Hardening --fallback-bundle-identifier org.swift-hardening.Hardening 2>&1)
warnings=$(printf '%s\n' "$log" | grep -E '^(warning|error)' || true)
if [ -n "$warnings" ]; then printf '%s\n' "$log" >&2; exit 1; fi
echo "documentation in .build/docs (open it with: docc preview Sources/Hardening/Hardening.docc --additional-symbol-graph-dir $graphs/hardening)"
