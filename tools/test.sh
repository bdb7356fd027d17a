#!/usr/bin/env bash
# The test run README gives and .ci/run calls: builds the tests, runs every suite in parallel
# except the real-tailer shipping runs (TailerTests: rsyslog at 20,000 events/s for a minute),
# then those alone, so that their load never stretches the timing of their neighbours on a
# two-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --skip TailerTests
swift test --skip-build --filter TailerTests
