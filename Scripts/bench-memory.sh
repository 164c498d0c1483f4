#!/usr/bin/env bash
# The daemon's memory (resident set, from /proc), release build, embedded default (SQLite), in
# three parts on one machine:
#   1. idle TLS connections: the RSS of a started daemon, then with CONNECTIONS (default 1000) TLS
#      connections open and idle (Python's ssl, the development CA);
#   2. a history of CLAIMANTS (default 1 000 000) claimants, one contact each, copied in SQL from
#      a screened contact: the RSS after a load whose calls come from claimants of that history;
#   3. a long load: MINUTES (default 10) of Screen calls (1 connection × 8 in flight, a fresh
#      claimant each), the RSS every 30 seconds.
#
#   Scripts/bench-memory.sh [idle|claimants|long|all]     (default all; needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
connections=${CONNECTIONS:-1000}
claimants=${CLAIMANTS:-1000000}
minutes=${MINUTES:-10}
record=Examples/kneeling-and-exposure.json

swift build -c release --product demandscreend >/dev/null
swift build -c release --product demandscreen >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/demandscreen-bench-memory.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

. Scripts/bench-daemon.sh
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon/status"; }

if [[ $part == idle || $part == all ]]; then
    start_daemon "$work/idle"
    sleep 1
    idle=$(rss)
    mkfifo "$work/idle/hold"
    python3 - "$port" "$work/idle/dev-ca.pem" "$connections" "$work/idle/hold" <<'PY' &
import socket, ssl, sys
port, ca, count, hold = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
context = ssl.create_default_context(cafile=ca)
connections = []
for _ in range(count):
    raw = socket.create_connection(("127.0.0.1", port))
    connections.append(context.wrap_socket(raw, server_hostname="localhost"))
print(f"{len(connections)} TLS connections open", flush=True)
open(hold).read()  # held open until the script writes to the fifo
PY
    holder=$!
    for _ in $(seq 1 600); do
        [ "$(ls "/proc/$daemon/fd" | wc -l)" -gt "$connections" ] && break
        sleep 0.1
    done
    sleep 2
    open=$(rss)
    kill -0 "$holder" 2>/dev/null || { echo "bench-memory.sh: the connections could not be held open (limits.maxConnectionsPerAddress, ulimit -n?)" >&2; exit 1; }
    echo release >"$work/idle/hold"
    wait "$holder" || true
    stop_daemon
    python3 -c "print(f'idle: {$idle} MiB; with $connections idle TLS connections: {$open} MiB (+{$open - $idle:.1f} MiB, {($open - $idle) * 1024 / $connections:.1f} KiB each)')"
fi

if [[ $part == claimants || $part == all ]]; then
    data="$work/claimants"
    start_daemon "$data"
    DEMANDSCREEN_DATA_DIRECTORY=$data "$bin/demandscreen" screen "$record" --server "127.0.0.1:$port" >/dev/null
    stop_daemon
    python3 - "$data/demandscreen.sqlite" "$claimants" <<'PY'
import sqlite3, sys
database, count = sys.argv[1], int(sys.argv[2])
connection = sqlite3.connect(database)
connection.execute(f"""
    INSERT INTO contacts (record_id, claimant_id, received_at_ms, stored_at_ms, channel, verdict, risk_level,
        signals, demand_kinds, incident_category, product_key, description, policy_version, client, commit_id,
        record, result)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
    SELECT 'mem-' || i, 'mem-c' || i, received_at_ms - i * 1000, stored_at_ms, channel, verdict, risk_level,
        signals, demand_kinds, incident_category, product_key, description || ' ' || (i % 5000), policy_version,
        client, commit_id, record, result
    FROM n, (SELECT * FROM contacts LIMIT 1)""")
connection.commit()
print(f"history: {connection.execute('SELECT COUNT(DISTINCT claimant_id) FROM contacts').fetchone()[0]} claimants")
PY
    python3 - "$record" "$claimants" >"$work/claimants.jsonl" <<'PY'
import json, random, sys
record = json.load(open(sys.argv[1], encoding="utf-8"))
choose = random.Random(3)
for index in range(5000):
    record["claimantId"] = f"mem-c{choose.randrange(1, int(sys.argv[2]) + 1)}"
    print(json.dumps(record, ensure_ascii=False))
PY
    start_daemon "$data"
    sleep 1
    before=$(rss)
    DEMANDSCREEN_DATA_DIRECTORY=$data "$bin/demandscreen" bench "$work/claimants.jsonl" --server "127.0.0.1:$port" \
        --connections 2 --depth 8 --duration 60 --claimants file | grep -E "calls/s|errors"
    after=$(rss)
    stop_daemon
    echo "with $claimants claimants in history: $before MiB at start, $after MiB after 60 s of their calls"
fi

if [[ $part == long || $part == all ]]; then
    start_daemon "$work/long"
    DEMANDSCREEN_DATA_DIRECTORY=$work/long "$bin/demandscreen" bench "$record" --server "127.0.0.1:$port" \
        --connections 1 --depth 8 --duration "$((minutes * 60))" --claimants fresh >"$work/long/bench" &
    load=$!
    samples=()
    for ((second = 0; second <= minutes * 60; second += 30)); do
        samples+=("$(rss)")
        [ "$second" -lt $((minutes * 60)) ] && sleep 30
    done
    wait "$load" || true
    grep -E "calls/s|errors" "$work/long/bench"
    stop_daemon
    echo "RSS MiB every 30 s over $minutes minutes: ${samples[*]}"
fi
