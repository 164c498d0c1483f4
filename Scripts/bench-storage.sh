#!/usr/bin/env bash
# Durable Screen calls per second on each store, in one run with the same load: no storage
# (`--storage-url none`), SQLite and PostgreSQL, each with group commit and with one commit per
# call (`storage.groupCommit=false`). Release build; the load is N pipelined records on one TLS
# connection from the real CLI (256 calls in flight), against 127.0.0.1 only.
#
#   Scripts/bench-storage.sh [N]      (default 20000; needs Debian's postgresql and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-20000}

swift build -c release --product demandscreend >/dev/null
swift build -c release --product demandscreen >/dev/null
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d /tmp/demandscreen-bench.XXXXXX)
chmod 755 "$work"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'Scripts/postgres-server.sh stop "$work/pg" >/dev/null 2>&1 || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
pg_url=$(Scripts/postgres-server.sh start "$work/pg" "$pg_port")
pg_user=${pg_url#postgresql://}; pg_user=${pg_user%%@*}

python3 - "$records" >"$work/load.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
base = 1796083200000
texts = ["注文した商品がまだ届いていません。いつ届くか教えてください。",
         "届いた電子レンジの扉が閉まりません。交換してもらえますか。",
         "請求書に身に覚えのない料金が入っています。確認してください。"]
for i in range(n):
    print(json.dumps({
        "recordId": f"bench-{i}", "claimantId": f"bc-{i % 2000}", "channel": "CHANNEL_PHONE",
        "receivedAtUnixMs": str(base + i * 1000), "language": "ja",
        "utterances": [{"speaker": "SPEAKER_CUSTOMER", "text": texts[i % 3]}],
        "incident": {"category": "INCIDENT_DELIVERY", "description": "商品が届かない"},
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
    local start end
    start=$(date +%s.%N)
    DEMANDSCREEN_DATA_DIRECTORY=$data "$bin/demandscreen" screen "$work/load.jsonl" --server "127.0.0.1:$port" --timeout-ms 120000 >"$data/out" 2>"$data/err" || true
    end=$(date +%s.%N)
    kill "$daemon"; wait "$daemon" 2>/dev/null || true
    [ -s "$data/err" ] && { echo "$name: first errors:" >&2; head -n 3 "$data/err" >&2; }
    local answered failed
    answered=$(wc -l <"$data/out"); failed=$(wc -l <"$data/err")
    python3 -c "print(f'{\"$name\":<22} {$answered / ($end - $start):>9.0f} calls/s  ({$answered} answered, $failed failed, {$end - $start:.1f} s)')"
}

echo "== $records records, one connection, release build, $(nproc) cores"
run none none true
run sqlite_group sqlite true
run sqlite_each sqlite false
run postgres_group postgresql true
run postgres_each postgresql false
