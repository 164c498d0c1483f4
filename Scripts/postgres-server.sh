#!/usr/bin/env bash
# A private PostgreSQL server for the tests: its own cluster in DIR, listening only on
# 127.0.0.1:PORT, trust authentication, run as an ordinary user (the Debian package's `postgres`
# user when called as root: PostgreSQL refuses to run as root).
#
#   Scripts/postgres-server.sh start DIR PORT   initdb on first use, start, print the server's URL
#   Scripts/postgres-server.sh stop DIR         stop it (fast shutdown)
#
# Needs Debian's postgresql package (`apt-get install -y postgresql`).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres-server.sh: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
    exit 1
fi

if [ "$(id -u)" = 0 ]; then
    user=postgres
    as_user() { runuser -u postgres -- "$@"; }
else
    user=$(id -un)
    as_user() { "$@"; }
fi

command=${1:-}
dir=${2:-}
case "$command" in
start)
    port=${3:?usage: postgres-server.sh start DIR PORT}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_user "$bin/initdb" --pgdata="$dir" --username="$user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
            || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    as_user "$bin/pg_ctl" --pgdata="$dir" --wait --timeout=60 --log="$dir/server.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=200" \
        start >/dev/null
    echo "postgresql://$user@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
stop)
    [ -f "$dir/postmaster.pid" ] || exit 0
    as_user "$bin/pg_ctl" --pgdata="$dir" --wait --mode=fast stop >/dev/null
    ;;
*)
    echo "usage: postgres-server.sh start DIR PORT | stop DIR" >&2
    exit 64
    ;;
esac
