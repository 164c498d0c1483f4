#!/usr/bin/env bash
# `demandscreen evaluate` on a long file runs at the rate of a short one: records per second on a
# generated file of N records next to the same on its first 2 000 (Scripts/generate-records.py),
# release build, one run. The command's start (loading the policy and MeCab's dictionary, timed
# on a one-record file) is taken off both times. The short file runs ROUNDS times (default 3) around
# the long one, and the ratio is the long file's rate over the median of the short one's.
#
#   Scripts/bench-evaluate.sh [N]      (default 100000; needs python3 and Debian's time; a few minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
rounds=${ROUNDS:-3}
[ "$records" -gt 2000 ] 2>/dev/null || { echo "bench-evaluate.sh: N must be a whole number above 2000" >&2; exit 2; }
[ "$rounds" -ge 1 ] 2>/dev/null || { echo "bench-evaluate.sh: ROUNDS must be a whole number of at least 1" >&2; exit 2; }

swift build -c release --product demandscreen >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/demandscreen-bench-evaluate.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' TERM  # a failed evaluate stops the script (and the EXIT trap cleans up)
Scripts/generate-records.py "$records" "$work/long.jsonl"
head -n 2000 "$work/long.jsonl" >"$work/short.jsonl"
head -n 1 "$work/long.jsonl" >"$work/one.jsonl"

# Seconds and peak resident MiB of one evaluate run over FILE.
evaluate() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin/demandscreen" evaluate "$1" >/dev/null ||
        { echo "bench-evaluate.sh: evaluate failed on $1" >&2; kill $$; exit 1; }
    awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$work/time"
}

read -r start _ < <(evaluate "$work/one.jsonl")
short=()
run_short() { read -r seconds mib < <(evaluate "$work/short.jsonl"); short+=("$seconds"); echo "2000 records: $seconds s, peak RSS $mib MiB"; }
run_short
for ((round = 1; round < rounds; round++)); do
    [ "$round" -eq $(((rounds + 1) / 2)) ] && { read -r long long_mib < <(evaluate "$work/long.jsonl"); echo "$records records: $long s, peak RSS $long_mib MiB"; }
    run_short
done
[ "$rounds" -eq 1 ] && { read -r long long_mib < <(evaluate "$work/long.jsonl"); echo "$records records: $long s, peak RSS $long_mib MiB"; }
python3 - "$start" "$records" "$long" "${short[@]}" <<'PY'
import statistics, sys
start, records, long = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
short = statistics.median(float(s) for s in sys.argv[4:])
short_rate = 2000 / max(short - start, 1e-9)
long_rate = records / max(long - start, 1e-9)
print(f"start (one record): {start:.2f} s")
print(f"records/s: 2000 → {short_rate:.0f} (median), {records} → {long_rate:.0f}: {long_rate / short_rate:.2f}× (target 0.8–1.2×)")
PY
