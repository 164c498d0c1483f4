#!/usr/bin/env bash
# Benchmarks of the screening engine alone (not part of CI: they need a quiet machine and a
# release build of ordo-one/benchmark, a few minutes on 2 cores).
#   Scripts/bench.sh            run and print the figures (markdown)
#   Scripts/bench.sh check      fail when allocations per record rose above Benchmarks/Thresholds
#   Scripts/bench.sh update     record new thresholds after an intended change
#   Scripts/bench.sh records    each 4 KB record's own time: the distribution of every run next to
#                               that of each record's best of 60, and the slowest records
#   Scripts/bench.sh rate      the judgment's text rate next to MeCab's own tokenizing on the same
#                               Japanese text, and on English (JudgmentRate)
#   Scripts/bench.sh instructions
#                               instructions per screened 4 KB record under valgrind's callgrind:
#                               repeatable on a shared machine, for comparing two versions
# Only the EngineBenchmarks target: StorageBenchmarks, in the same package, is a plain executable
# that Scripts/bench-storage.sh runs with its own arguments.
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"
case "${1:-run}" in
    run) swift package --disable-sandbox benchmark --target EngineBenchmarks --format markdown ;;
    check) swift package --disable-sandbox benchmark thresholds check --target EngineBenchmarks ;;
    update) swift package --disable-sandbox --allow-writing-to-package-directory benchmark thresholds update --target EngineBenchmarks ;;
    rate)
        swift build -c release --product JudgmentRate >&2
        "$(swift build -c release --show-bin-path)/JudgmentRate"
        ;;
    records | instructions)
        swift build -c release --product EngineProfile >&2
        profile="$(swift build -c release --show-bin-path)/EngineProfile"
        for language in ja en; do
            if [ "$1" = records ]; then
                "$profile" "$language" 4096
            else
                # Valgrind cannot read the Swift binary's debug information: count a stripped copy,
                # and only inside ScreeningEngine.screen (not the corpus loading around it).
                stripped=$(mktemp)
                strip --strip-debug -o "$stripped" "$profile"
                records=$(ROUNDS=1 "$profile" "$language" 4096 | sed -n '1s/ .*//p')
                instructions=$(ROUNDS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                    --toggle-collect='$s15ScreeningEngineAAV6screen_7history*' "$stripped" "$language" 4096 2>&1 |
                    sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,)
                rm -f "$stripped"
                [ -n "$instructions" ] || { echo "bench.sh: no instruction count from valgrind" >&2; exit 1; }
                # The tool screens each record once, then the (up to) five slowest once more.
                screens=$((records + (records < 5 ? records : 5)))
                echo "$language 4 KB: $((instructions / screens)) instructions per record ($records records)"
            fi
        done ;;
    *) echo "usage: $0 [run|check|update|records|instructions]" >&2; exit 2 ;;
esac
