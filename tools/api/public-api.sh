#!/usr/bin/env bash
# The public API of the library products, one declaration a line ("module kind path"), from the
# compiler's symbol graphs: what a user of Hardening, HardeningLog, HardeningAgent, HardeningTestKit
# and HardeningOTel can call. docs/public-api.txt is the reviewed listing.
#
#   bash tools/api/public-api.sh           print the listing
#   bash tools/api/public-api.sh --update  rewrite docs/public-api.txt
#   bash tools/api/public-api.sh --check   fail (and show the difference) if the API changed
#                                          without docs/public-api.txt (.ci/run does this)
set -euo pipefail
cd "$(dirname "$0")/../.."
swift package dump-symbol-graph --minimum-access-level public >/dev/null 2>&1 || swift package dump-symbol-graph --minimum-access-level public
graphs="$(dirname "$(find .build -path '*/symbolgraph/Hardening.symbols.json' -newer Package.swift | head -1)")"
listing="$(python3 - "$graphs" <<'PY'
import json, os, sys
directory = sys.argv[1]
lines = set()
for module in ["Hardening", "HardeningLog", "HardeningAgent", "HardeningTestKit", "HardeningOTel"]:
    for name in os.listdir(directory):
        if name == f"{module}.symbols.json" or name.startswith(f"{module}@"):
            for symbol in json.load(open(os.path.join(directory, name)))["symbols"]:
                if symbol["accessLevel"] not in ("public", "open"):
                    continue
                kind = symbol["kind"]["identifier"].removeprefix("swift.")
                if kind == "func.op":  # ==, <, … mostly synthesized by Equatable, Comparable
                    continue
                if "::SYNTHESIZED::" in symbol["identifier"]["precise"]:  # inherited from a protocol's extension
                    continue
                lines.add(f"{module} {kind} {'.'.join(symbol['pathComponents'])}")
print("\n".join(sorted(lines)))
PY
)"
case "${1:-}" in
    --update) printf '%s\n' "$listing" > docs/public-api.txt; echo "public-api: $(wc -l < docs/public-api.txt) declarations written to docs/public-api.txt" ;;
    --check)
        if ! diff -u docs/public-api.txt <(printf '%s\n' "$listing"); then
            echo "public-api: the public API changed; review it, then run: bash tools/api/public-api.sh --update" >&2
            exit 1
        fi
        echo "public-api: unchanged ($(wc -l < docs/public-api.txt) declarations)" ;;
    *) printf '%s\n' "$listing" ;;
esac
