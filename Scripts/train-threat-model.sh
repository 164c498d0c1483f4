#!/usr/bin/env bash
# Trains the built-in threat model on the development contacts and sentences only (never the
# held-out part), writes it where the engine ships it, and prints the leave-one-file-out figures
# from which the policy's threatModel thresholds are chosen. CorpusTests fails while the model is
# older than the development corpus (its fingerprint).
#   Scripts/train-threat-model.sh [--no-cross-validate]
set -euo pipefail
export LC_ALL=C  # the files in byte order, as CorpusTests reads them for the fingerprint
cd "$(dirname "$0")/.."
swift build -c release --product demandscreen
args=(--cross-validate)
[[ "${1:-}" == "--no-cross-validate" ]] && args=()
shopt -s nullglob
files=(Tests/ScreeningEngineTests/Corpus/dev/*.jsonl Tests/ScreeningEngineTests/Corpus/dev-sentences/*.jsonl)
.build/release/demandscreen model train "${args[@]}" --out Sources/ScreeningEngine/Resources/threat-model.json "${files[@]}"
