#!/usr/bin/env bash
# The interop test's checks with every C program under valgrind's memcheck: any invalid access,
# use of uninitialised memory or definite/indirect leak fails the check that ran it (exit 99).
# Slow (a few minutes), so not part of CI. usage: Clients/c/test/valgrind.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v valgrind > /dev/null || { echo "error: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
export DS_INTEROP_SANITIZE=0
export DS_INTEROP_TIME_FACTOR=${DS_INTEROP_TIME_FACTOR:-20}
export DS_INTEROP_RUNNER="valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-origins=yes"
exec "$here/interop.sh" "$@"
