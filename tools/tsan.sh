#!/usr/bin/env bash
# Runs the test suites under ThreadSanitizer in a separate build folder (.build-tsan).
# Two child-process tests are skipped: ThreadSanitizer's own runtime crashes (SIGBUS) in a process
# with a file size limit (RLIMIT_FSIZE), whatever the program does; and its shadow memory alone
# puts a child over the 64 MiB that the bounded-memory replay test allows.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
swift test --skip-build --sanitize=thread --scratch-path .build-tsan --skip aFileSizeLimitIsReportedAndRecoveredWithoutLoss --skip aHundredMegabyteLineIsSkippedWithBoundedMemory "$@"
