#!/usr/bin/env bash
# Builds one libFuzzer target of Fuzz/ (its own package, depending on this one by path) with
# `-sanitize=fuzzer,address` into Fuzz/.build, and runs it for SECONDS on a copy of its seed
# corpus (Fuzz/Corpus/TARGET; the copy, with what the run adds, is kept in Fuzz/.runs/corpus/TARGET
# for the next run). Prints the executions, coverage and crashes; exits 1 when the run found a
# crash (the input is left in Fuzz/.runs/artifacts/TARGET/, named crash-*, leak-*, timeout-* or
# oom-*). Not part of the test command.
#   Scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   TARGET: FrameDecoderFuzz, RequestFuzz, PolicyFuzz or TemplateFuzz
# Needs Swift 6 on Linux (the toolchain's libFuzzer); a release build (FUZZ_CONFIGURATION=release)
# runs several times faster but takes longer to build.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: Scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]}
seconds=${2:?usage: Scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]}
shift 2
case "$target" in
    FrameDecoderFuzz | RequestFuzz | PolicyFuzz | TemplateFuzz) ;;
    *) echo "unknown target $target (FrameDecoderFuzz, RequestFuzz, PolicyFuzz or TemplateFuzz)" >&2; exit 2 ;;
esac
configuration=${FUZZ_CONFIGURATION:-debug}
flags=(--package-path Fuzz --scratch-path Fuzz/.build -c "$configuration"
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
swift build "${flags[@]}" --product "$target" >&2
binary="$(swift build "${flags[@]}" --show-bin-path)/$target"

corpus=Fuzz/.runs/corpus/$target
artifacts=Fuzz/.runs/artifacts/$target
mkdir -p "$corpus" "$artifacts"
cp -n Fuzz/Corpus/"$target"/* "$corpus"/
log=Fuzz/.runs/$target.log
status=0
# -rss_limit_mb: AddressSanitizer's shadow memory and the Swift runtime need more than the default.
"$binary" "$corpus" -max_total_time="$seconds" -artifact_prefix="$artifacts/" -print_final_stats=1 \
    -rss_limit_mb=4096 -timeout=25 "$@" >"$log" 2>&1 || status=$?

last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
executions=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
echo "target:     $target ($configuration, ${seconds}s)"
echo "executions: ${executions:-?} ($(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}') per second)"
echo "coverage:   $(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/([^ ]+).*/\1 edges, \2 features, corpus \3 inputs (\4)/p' <<<"$last")"
crashes=$(find "$artifacts" -type f 2>/dev/null | wc -l || true)
if [ "$crashes" -gt 0 ]; then echo "crashes:    $crashes in $artifacts"; else echo "crashes:    0"; fi
if [ "$status" -ne 0 ]; then
    echo "libFuzzer exited with $status; the end of $log:" >&2
    tail -40 "$log" >&2
    exit 1
fi
