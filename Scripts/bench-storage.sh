#!/usr/bin/env bash
# Durable Screen calls per second on each store, in one run with the same load: no storage
# (`--storage-url none`), SQLite and PostgreSQL, each with group commit and with one commit per
# call (`storage.groupCommit=false`). Release build; the load is N pipelined records on one TLS
# connection from the real CLI (256 calls in flight), against 127.0.0.1 only. For PostgreSQL it
# also prints the server's CPU time per call. Then the same records through the store alone
# (Benchmarks/StorageBenchmarks: the history read and the durable commit, no TLS, no engine).
# This machine kind swings by 2× from one minute to the next, so no storage and the two group
# commits run ROUNDS times, interleaved, each round on a fresh database, and the ratios that
# matter are taken within each round; one commit per call, ten times slower, runs once against
# the daemon. The store alone runs both SQLite modes and PostgreSQL's group commit in each round.
#
# The load's complaints share one description, unless DESCRIPTIONS=unique: then each is its own
# (as most are at a real site), and each call's history read also compares its wording with the
# category's recent contacts.
#
#   Scripts/bench-storage.sh [N]      (default 20000; ROUNDS default 3; DESCRIPTIONS=shared or
#                                      unique, default shared; needs Debian's postgresql and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-20000}
rounds=${ROUNDS:-3}
descriptions=${DESCRIPTIONS:-shared}
[ "$rounds" -ge 1 ] 2>/dev/null || { echo "bench-storage.sh: ROUNDS must be a whole number of at least 1" >&2; exit 2; }
[[ $descriptions == shared || $descriptions == unique ]] || { echo "bench-storage.sh: DESCRIPTIONS must be shared or unique" >&2; exit 2; }

swift build -c release --product demandscreend >/dev/null
swift build -c release --product demandscreen >/dev/null
bin=$(swift build -c release --show-bin-path)
swift build -c release --package-path Benchmarks --product StorageBenchmarks >/dev/null
store_bench="$(swift build -c release --package-path Benchmarks --show-bin-path)/StorageBenchmarks"

work=$(mktemp -d /tmp/demandscreen-bench.XXXXXX)
chmod 755 "$work"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'Scripts/postgres-server.sh stop "$work/pg" >/dev/null 2>&1 || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
pg_url=$(Scripts/postgres-server.sh start "$work/pg" "$pg_port")
pg_user=${pg_url#postgresql://}; pg_user=${pg_user%%@*}

python3 - "$records" "$descriptions" >"$work/load.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
unique = sys.argv[2] == "unique"
base = 1796083200000
texts = ["注文した商品がまだ届いていません。いつ届くか教えてください。",
         "届いた電子レンジの扉が閉まりません。交換してもらえますか。",
         "請求書に身に覚えのない料金が入っています。確認してください。"]
for i in range(n):
    print(json.dumps({
        "recordId": f"bench-{i}", "claimantId": f"bc-{i % 2000}", "channel": "CHANNEL_PHONE",
        "receivedAtUnixMs": str(base + i * 1000), "language": "ja",
        "utterances": [{"speaker": "SPEAKER_CUSTOMER", "text": texts[i % 3]}],
        "incident": {"category": "INCIDENT_DELIVERY", "description": f"注文{i}番の商品が届かない" if unique else "商品が届かない"},
        "assessment": {"companyFault": "FAULT_CONFIRMED", "causation": "CAUSATION_CONFIRMED"},
        "demands": [{"kind": "DEMAND_EXPLANATION", "text": "説明してほしい"}]}, ensure_ascii=False))
PY

run() {  # name, storage url, group commit
    local name=$1 url=$2 group=$3 data="$work/data-$1"
    mkdir -p "$data"
    [[ $url == postgresql* ]] && { psql -q -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d postgres -c "CREATE DATABASE $name" >/dev/null; url="postgresql://$pg_user@127.0.0.1:$pg_port/$name?sslmode=disable"; }
    [[ $url == sqlite ]] && url="sqlite:$data/history.sqlite"
    DEMANDSCREEN_DATA_DIRECTORY=$data DEMANDSCREEN_STORAGE_GROUP_COMMIT=$group \
        "$bin/demandscreend" --port 0 --storage-url "$url" --log-level notice 2>"$data/log" &
    local daemon=$!
    local port=""
    for _ in $(seq 1 200); do
        port=$(sed -n '/demandscreend is ready/s/.*address=[^ ]*:\([0-9]*\) .*/\1/p' "$data/log" | head -n 1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    local start end pg_cpu_before
    pg_cpu_before=$(postgres_cpu_ticks)
    start=$(date +%s.%N)
    DEMANDSCREEN_DATA_DIRECTORY=$data "$bin/demandscreen" screen "$work/load.jsonl" --server "127.0.0.1:$port" >"$data/out" 2>"$data/err" || true
    end=$(date +%s.%N)
    kill "$daemon"; wait "$daemon" 2>/dev/null || true
    [ -s "$data/err" ] && { echo "$name: first errors:" >&2; head -n 3 "$data/err" >&2; }
    local answered failed pg_note=""
    answered=$(wc -l <"$data/out"); failed=$(wc -l <"$data/err")
    if [[ $url == postgresql* ]]; then
        sleep 1  # the daemon's backends have exited and been counted in the postmaster's children
        pg_note=$(python3 -c "print(f', PostgreSQL server CPU {($(postgres_cpu_ticks) - $pg_cpu_before) / $(getconf CLK_TCK) * 1e6 / max($answered, 1):.0f} µs per call')")
    fi
    python3 -c "print(f'{\"$name\":<22} {$answered / ($end - $start):>9.0f} calls/s  ({$answered} answered, $failed failed, {$end - $start:.1f} s$pg_note)')"
    echo "$name $answered $start $end" >>"$work/rates"
}

# CPU ticks used by the PostgreSQL server: the postmaster's own and its exited children's
# (utime, stime, cutime, cstime of /proc/PID/stat).
postgres_cpu_ticks() {
    local pid
    pid=$(head -n 1 "$work/pg/postmaster.pid")
    awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat"
}

echo "== $records records ($descriptions descriptions), one connection, release build, $(nproc) cores, $rounds rounds"
for round in $(seq 1 "$rounds"); do
    run "none_$round" none true
    run "sqlite_group_$round" sqlite true
    run "postgres_group_$round" postgresql true
done
run sqlite_each sqlite false
run postgres_each postgresql false
echo "== ratios: durable group commit against no storage in the same round; group against one commit per call"
python3 - "$work/rates" <<'PY'
import statistics, sys
rate = {}
for line in open(sys.argv[1]):
    name, answered, start, end = line.split()
    rate[name] = int(answered) / (float(end) - float(start))
rounds = sorted({int(name.rsplit("_", 1)[1]) for name in rate if name.startswith("none_")})
for store in ("sqlite", "postgres"):
    # A round where either side answered nothing (a daemon that did not start) has no ratio.
    ratios = [rate[f"{store}_group_{r}"] / rate[f"none_{r}"] for r in rounds if rate[f"none_{r}"] and rate[f"{store}_group_{r}"]]
    groups = [rate[f"{store}_group_{r}"] for r in rounds if rate[f"{store}_group_{r}"]]
    if not ratios or not rate[f"{store}_each"]:
        print(f"{store:<9} no ratio: a run answered nothing")
        continue
    print(f"{store:<9} group / none: {' '.join(f'{x:.2f}' for x in ratios)}  (median {statistics.median(ratios):.2f})"
          f"   median group / one commit per call: {statistics.median(groups) / rate[f'{store}_each']:.1f}")
PY

echo "== the store alone, the same $records records, 256 calls in flight, $rounds rounds"
# Group commit and one commit per call on SQLite, and group commit on PostgreSQL, in each round
# (one commit per call on PostgreSQL, a minute long, once): an fsync's time moves with the disk's
# other tenants, so each SQLite ratio is taken within its round.
store_args=()
for round in $(seq 1 "$rounds"); do
    psql -q -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d postgres -c "CREATE DATABASE store_group_$round" >/dev/null
    store_args+=(
        "sqlite_group_$round=sqlite:$work/store-group-$round.sqlite=true" "sqlite_each_$round=sqlite:$work/store-each-$round.sqlite=false"
        "postgres_group_$round=postgresql://$pg_user@127.0.0.1:$pg_port/store_group_$round?sslmode=disable=true")
done
psql -q -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d postgres -c "CREATE DATABASE store_each" >/dev/null
store_args+=("postgres_each=postgresql://$pg_user@127.0.0.1:$pg_port/store_each?sslmode=disable=false")
"$store_bench" "$records" "${store_args[@]}" | tee "$work/store"
python3 - "$work/store" <<'PY'
import statistics, sys
rate = {line.split()[0]: int(line.split()[1]) for line in open(sys.argv[1]) if "calls/s" in line}
rounds = sorted({int(name.rsplit("_", 1)[1]) for name in rate if name.startswith("sqlite_group_")})
sqlite = [rate[f"sqlite_group_{r}"] / rate[f"sqlite_each_{r}"] for r in rounds if rate.get(f"sqlite_each_{r}")]
postgres = [rate[f"postgres_group_{r}"] for r in rounds]
if sqlite:
    print(f"sqlite    store alone, group / one commit per call: {' '.join(f'{x:.1f}' for x in sqlite)}  (median {statistics.median(sqlite):.1f})")
if postgres and rate.get("postgres_each"):
    print(f"postgres  store alone, median group / one commit per call: {statistics.median(postgres) / rate['postgres_each']:.1f}")
PY
