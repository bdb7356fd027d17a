#!/usr/bin/env bash
# The project's one test command (README, .ci/run): set up, build, run every test, then
# validate the event files the tests wrote against schemas/ with Python's jsonschema.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export HARDENING_TEST_OUTPUT="${HARDENING_TEST_OUTPUT:-$PWD/.build/test-output}"
rm -rf "$HARDENING_TEST_OUTPUT"
mkdir -p "$HARDENING_TEST_OUTPUT"
swift build --build-tests
swift test --skip-build "$@"
if [ -n "$(ls -A "$HARDENING_TEST_OUTPUT" 2>/dev/null)" ]; then
    python3 tools/schema/check_events.py "$HARDENING_TEST_OUTPUT"
else
    echo "schema check: no event files were written to $HARDENING_TEST_OUTPUT" >&2
    exit 1
fi
