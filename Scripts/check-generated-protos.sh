#!/usr/bin/env bash
# Fails when the committed generated code is stale: the hash of Protos/**/*.proto must equal
# the one Scripts/generate-protos.sh recorded in Protos/generated.sha256.
# With --print, prints the current hash instead.
set -euo pipefail
cd "$(dirname "$0")/.."
current=$(find Protos -name '*.proto' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "${1:-}" = "--print" ]; then
    echo "$current"
    exit 0
fi
recorded=$(cat Protos/generated.sha256 2>/dev/null || true)
if [ "$current" != "$recorded" ]; then
    echo "error: the generated Swift code is stale: Protos/ hash $current, recorded ${recorded:-nothing}." >&2
    echo "Run Scripts/generate-protos.sh and commit the result." >&2
    exit 1
fi
echo "generated protobuf code is up to date ($current)"
