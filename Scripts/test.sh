#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run runs): builds everything,
# including both executables, and runs every test suite. The end-to-end suite starts the real
# demandscreend on loopback (one test on the embedded default port 7443) and drives the real CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build
