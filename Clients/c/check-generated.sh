#!/usr/bin/env bash
# Fails when the committed protobuf-c code under Clients/c/generated/ is not what generate.sh
# makes from Protos/ now: regenerates into a temporary folder and diffs.
# (The output depends on protoc-c's version too: Debian 12's protobuf-c-compiler 1.4.1 made it.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/generate.sh" "$tmp/generated"
if ! diff -ru "$here/generated" "$tmp/generated" > "$tmp/diff"; then
    head -n 60 "$tmp/diff" >&2
    echo "error: Clients/c/generated/ is stale (protoc-c $(protoc-c --version 2>&1 | head -n1 | awk '{print $2}')). Run Clients/c/generate.sh and commit the result." >&2
    exit 1
fi
echo "generated protobuf-c code is up to date"
