#!/usr/bin/env bash
# Benchmarks of the screening engine alone (not part of CI: they need a quiet machine and a
# release build of ordo-one/benchmark, a few minutes on 2 cores).
#   Scripts/bench.sh            run and print the figures (markdown)
#   Scripts/bench.sh check      fail when allocations per record rose above Benchmarks/Thresholds
#   Scripts/bench.sh update     record new thresholds after an intended change
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"
case "${1:-run}" in
    run) swift package --disable-sandbox benchmark --format markdown ;;
    check) swift package --disable-sandbox benchmark thresholds check ;;
    update) swift package --disable-sandbox --allow-writing-to-package-directory benchmark thresholds update ;;
    *) echo "usage: $0 [run|check|update]" >&2; exit 2 ;;
esac
