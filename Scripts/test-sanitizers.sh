#!/usr/bin/env bash
# The test suites under AddressSanitizer or ThreadSanitizer, built into a scratch path of their own
# (.build-address, .build-thread) so that the ordinary .build is left alone.
#   Scripts/test-sanitizers.sh address|thread [swift test options, e.g. --filter 'DemandScreenWireTests|DemandScreenServerTests']
# Like Scripts/test.sh it starts a private PostgreSQL server unless DEMANDSCREEN_TEST_POSTGRES_URL is
# set. Exits non-zero when a test fails or a sanitizer reports (halt_on_error: the first report
# stops the run and is printed). LeakSanitizer is off (ASAN_OPTIONS=detect_leaks=0): the Swift
# runtime's caches show as leaks at exit; set ASAN_OPTIONS yourself to turn it on.
#
# Cost on the 2-core CI machine: each sanitizer is a full build of its own (about as long as the
# first `swift build --build-tests`), and the suites run several times slower than without it (the
# corpus and end-to-end suites most). Too slow for every CI run: run it before a release, or with
# --filter on the fast suites (the wire, server, template and policy suites) after a change to them.
#
# ThreadSanitizer on Linux reports every access made inside Synchronization.Mutex.withLock: the
# Linux Mutex is a futex, which TSan does not model, so it sees the lock's critical sections as
# unsynchronized. The run goes on (halt_on_error=0) and ends with the reports counted by their
# first frame; a report whose first frame is not inside a withLock closure is the one to read.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer=${1:?usage: Scripts/test-sanitizers.sh address|thread [swift test options...]}
shift
case "$sanitizer" in
    address) export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:abort_on_error=0} ;;
    thread) export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1} ;;
    *) echo "usage: Scripts/test-sanitizers.sh address|thread [swift test options...]" >&2; exit 2 ;;
esac
scratch=.build-$sanitizer

start=$(date +%s)
swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
built=$(date +%s)
echo "== built with -sanitize=$sanitizer in $((built - start)) s"

# shellcheck source=Scripts/test-postgres.sh
source Scripts/test-postgres.sh

log=$(mktemp)
set +e
swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "== tests under -sanitize=$sanitizer ran in $(($(date +%s) - built)) s (exit $status)"
# Where the reports point: the first frame of each, counted.
echo "== $(grep -c 'WARNING: \(Thread\|Address\)Sanitizer\|ERROR: AddressSanitizer' "$log" || true) sanitizer report(s), by first frame:"
grep -A3 'WARNING: ThreadSanitizer\|ERROR: AddressSanitizer' "$log" | grep '#0' | sed 's/.* \(\/[^ ]*\) .*/\1/' | sort | uniq -c | sort -rn | head -20 || true
rm -f "$log"
exit "$status"
