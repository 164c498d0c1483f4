#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run runs): builds everything,
# including both executables, checks the deployment files (Scripts/check-deploy.sh: the
# Dockerfile, the Kubernetes manifests, the compose file and the systemd unit, and the daemon
# started on their configuration), builds the C client and runs its interoperability test
# against the real daemon (Clients/c/test/interop.sh, also under ASan and UBSan), starts a
# private PostgreSQL server on a loopback port in a
# temporary folder (Scripts/postgres-server.sh; as an ordinary user), runs every test suite
# against SQLite and that server, and stops it. The end-to-end suite starts the real
# demandscreend on loopback (one test on the embedded default port 7443) and drives the real CLI.
#
# Set DEMANDSCREEN_TEST_POSTGRES_URL to use a server of your own instead (the tests create and
# use databases named demandscreen_test_*; the user must be allowed to create databases).
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
DEPLOY_CHECK_REQUIRE_DAEMON=1 DEMANDSCREEND=.build/debug/demandscreend Scripts/check-deploy.sh
Clients/c/test/interop.sh .build/debug

if [ -z "${DEMANDSCREEN_TEST_POSTGRES_URL:-}" ]; then
    pg_dir=$(mktemp -d /tmp/demandscreen-test-pg.XXXXXX)
    chmod 755 "$pg_dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    trap 'Scripts/postgres-server.sh stop "$pg_dir/data" || true; rm -rf "$pg_dir"' EXIT
    DEMANDSCREEN_TEST_POSTGRES_URL=$(Scripts/postgres-server.sh start "$pg_dir/data" "$port")
    export DEMANDSCREEN_TEST_POSTGRES_URL
    echo "== PostgreSQL for the tests: $DEMANDSCREEN_TEST_POSTGRES_URL"
fi

swift test --skip-build
