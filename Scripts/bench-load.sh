#!/usr/bin/env bash
# Screen calls under load, in one run on one machine (release builds, all on 127.0.0.1): the
# figures of the README's performance table and of issue-style targets, each ratio taken within
# this run.
#   1. the engine's own CPU per record on the load's record (Benchmarks/EngineCost);
#   2. the daemon on its embedded default (SQLite, durable): a fresh claimant on every call, then
#      one claimant on every call (a harassing caller), C connections × D calls in flight each,
#      with the daemon's CPU per call;
#   3. fairness: one caller alone (1 connection, 1 call in flight, its own token), then the same
#      caller while another token floods with one claimant (C × D, waiting out each refusal's
#      retry hint): its p99 with and without, first on a daemon with the default limits (the
#      flood's calls beyond `limits.screensInProgress` wait their turn), then on one with
#      `limits.maxCallsInFlightPerIdentity` PER_CALLER (default 8);
#   4. the daemon with `--storage-url none`: the ceiling without storage;
#   5. the transport's ceiling (Benchmarks/TransportCeiling): the daemon's server, TLS and framing
#      with a Screen method that does no work, under the same load.
#
#   Scripts/bench-load.sh [RECORD] [SECONDS]   (default Examples/kneeling-and-exposure.json, 20;
#                                               CONNECTIONS default 4, DEPTH default 16,
#                                               PER_CALLER default 8)
set -euo pipefail
cd "$(dirname "$0")/.."
record=${1:-Examples/kneeling-and-exposure.json}
seconds=${2:-20}
connections=${CONNECTIONS:-4}
depth=${DEPTH:-16}
per_caller=${PER_CALLER:-8}

swift build -c release --product demandscreend >/dev/null
swift build -c release --product demandscreen >/dev/null
bin=$(swift build -c release --show-bin-path)
swift build -c release --package-path Benchmarks --product EngineCost >/dev/null
swift build -c release --package-path Benchmarks --product TransportCeiling >/dev/null
engine_cost="$(swift build -c release --package-path Benchmarks --show-bin-path)/EngineCost"
transport_ceiling="$(swift build -c release --package-path Benchmarks --show-bin-path)/TransportCeiling"

work=$(mktemp -d /tmp/demandscreen-bench-load.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== engine alone"
"$engine_cost" "$record"

# Two agent tokens: the load's and the other caller's (only their hashes go to the daemon).
load_line=$("$bin/demandscreen" token new --name load --role agent)
other_line=$("$bin/demandscreen" token new --name other --role agent)
load_token=$(sed -n 's/^token: //p' <<<"$load_line")
other_token=$(sed -n 's/^token: //p' <<<"$other_line")
DEMANDSCREEN_AUTH_TOKENS="$(sed -n 's/^auth.tokens entry: //p' <<<"$load_line"),$(sed -n 's/^auth.tokens entry: //p' <<<"$other_line")"
export DEMANDSCREEN_AUTH_TOKENS

. Scripts/bench-daemon.sh
bench() {  # name, token, bench arguments…
    local data=$1 token=$2
    shift 2
    DEMANDSCREEN_DATA_DIRECTORY=$work/$data "$bin/demandscreen" bench "$record" --server "127.0.0.1:$port" --token "$token" "$@"
}

start_daemon "$work/durable"
echo "== durable (SQLite), a fresh claimant on every call"
bench durable "$load_token" --connections "$connections" --depth "$depth" --duration "$seconds" --claimants fresh --server-pid "$daemon"
echo "== durable (SQLite), one claimant on every call"
bench durable "$load_token" --connections "$connections" --depth "$depth" --duration "$seconds" --claimants hot --server-pid "$daemon"
stop_daemon

fairness() {  # a title; the daemon is started by the caller
    echo "== the other caller alone (1 × 1), $1"
    bench "$data" "$other_token" --connections 1 --depth 1 --duration "$seconds" --claimants fresh
    echo "== the other caller (1 × 1) while one claimant floods ($connections × $depth), $1"
    bench "$data" "$load_token" --connections "$connections" --depth "$depth" --duration "$((seconds + 4))" --warmup 1 --claimants hot \
        >"$work/flood" &
    local flood=$!
    sleep 2
    bench "$data" "$other_token" --connections 1 --depth 1 --duration "$seconds" --claimants fresh
    wait "$flood" || true  # the flood's refused calls make its exit status non-zero
    sed 's/^/   flood: /' "$work/flood"
    stop_daemon
}
data=turns
start_daemon "$work/turns"
fairness "default limits"
data=fair
DEMANDSCREEN_LIMITS_MAX_CALLS_IN_FLIGHT_PER_IDENTITY=$per_caller start_daemon "$work/fair"
fairness "$per_caller calls in flight per caller"

start_daemon "$work/none" --storage-url none
echo "== no storage, a fresh claimant on every call"
bench none "$load_token" --connections "$connections" --depth "$depth" --duration "$seconds" --claimants fresh --server-pid "$daemon"
stop_daemon

echo "== the transport alone (a Screen method that does no work)"
"$transport_ceiling" "$work/none" >"$work/ceiling.out" 2>"$work/ceiling.log" &
daemon=$!
wait_for_port "$work/ceiling.out" 's/^ready port=//p' "$work/ceiling.log" "TransportCeiling"
bench none "$load_token" --connections "$connections" --depth "$depth" --duration "$seconds" --claimants fresh --server-pid "$daemon"
stop_daemon
