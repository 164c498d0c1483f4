#!/usr/bin/env bash
# Regenerates the protobuf-c code under Clients/c/generated/ from the project's Protos/ (needs
# Debian's protobuf-c-compiler, which brings protoc-c). Commit the result.
# Usage: Clients/c/generate.sh [OUTPUT_DIR]   (default: Clients/c/generated)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos="$here/../../Protos"
out="${1:-$here/generated}"
command -v protoc-c >/dev/null || { echo "error: protoc-c not found (apt-get install protobuf-c-compiler)" >&2; exit 1; }
mkdir -p "$out"
# Every .proto of the contract, in a stable order; paths relative to Protos/ so that the
# generated files include each other as "demandscreen/v1/....pb-c.h".
mapfile -t files < <(cd "$protos" && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
(cd "$protos" && protoc-c --c_out="$out" -I . "${files[@]}")
