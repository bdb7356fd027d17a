#!/usr/bin/env bash
# Runs the test suites under ThreadSanitizer in a separate build folder (.build-tsan).
# The RLIMIT_FSIZE child-process test is skipped: ThreadSanitizer's own runtime crashes (SIGBUS)
# in a process with a file size limit, whatever the program does.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests --sanitize=thread --scratch-path .build-tsan
swift test --skip-build --sanitize=thread --scratch-path .build-tsan --skip aFileSizeLimitIsReportedAndRecoveredWithoutLoss "$@"
