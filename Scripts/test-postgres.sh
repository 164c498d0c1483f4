# Sourced by the test scripts (Scripts/test.sh, Scripts/test-sanitizers.sh): unless
# DEMANDSCREEN_TEST_POSTGRES_URL names a server already, starts a private PostgreSQL on a free
# loopback port in a temporary folder (Scripts/postgres-server.sh), exports its URL, and stops it
# and removes the folder when the script exits.
if [ -z "${DEMANDSCREEN_TEST_POSTGRES_URL:-}" ]; then
    pg_dir=$(mktemp -d /tmp/demandscreen-test-pg.XXXXXX)
    chmod 755 "$pg_dir"
    pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    trap 'Scripts/postgres-server.sh stop "$pg_dir/data" || true; rm -rf "$pg_dir"' EXIT
    DEMANDSCREEN_TEST_POSTGRES_URL=$(Scripts/postgres-server.sh start "$pg_dir/data" "$pg_port")
    export DEMANDSCREEN_TEST_POSTGRES_URL
    echo "== PostgreSQL for the tests: $DEMANDSCREEN_TEST_POSTGRES_URL"
fi
