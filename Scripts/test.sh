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

# shellcheck source=Scripts/test-postgres.sh
source Scripts/test-postgres.sh

# Two runs: the judgment's suites, which keep both cores busy with the corpus for a while, first;
# then the servers, stores and processes, whose tests wait on clocks and deadlines and would
# otherwise wait for a free thread behind the corpus.
cpu_bound='ScreeningEngineTests|ResponseTemplatesTests|MorphologyTests|DemandScreenWireTests'
status=0
swift test --skip-build --filter "$cpu_bound" || status=$?
swift test --skip-build --skip "$cpu_bound" || status=$?
exit "$status"
