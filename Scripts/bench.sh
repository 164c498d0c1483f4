#!/usr/bin/env bash
# Benchmarks of the screening engine alone (not part of CI: they need a quiet machine and a
# release build of ordo-one/benchmark, a few minutes on 2 cores).
#   Scripts/bench.sh            run and print the figures (markdown)
#   Scripts/bench.sh check      fail when allocations per record rose above Benchmarks/Thresholds
#   Scripts/bench.sh update     record new thresholds after an intended change
# Only the EngineBenchmarks target: StorageBenchmarks, in the same package, is a plain executable
# that Scripts/bench-storage.sh runs with its own arguments.
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"
case "${1:-run}" in
    run) swift package --disable-sandbox benchmark --target EngineBenchmarks --format markdown ;;
    check) swift package --disable-sandbox benchmark thresholds check --target EngineBenchmarks ;;
    update) swift package --disable-sandbox --allow-writing-to-package-directory benchmark thresholds update --target EngineBenchmarks ;;
    *) echo "usage: $0 [run|check|update]" >&2; exit 2 ;;
esac
