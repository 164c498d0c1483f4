#!/usr/bin/env bash
# Regenerates the committed Swift code for Protos/ and records the hash of the .proto files
# in Protos/generated.sha256, which Scripts/check-generated-protos.sh (run by CI) compares.
#
# Needs protoc (Debian: protobuf-compiler). Builds protoc-gen-swift from the swift-protobuf
# version in Package.swift into .build-protoc/ on first use (a few minutes on 2 cores), or uses
# $PROTOC_GEN_SWIFT when set.
set -euo pipefail
cd "$(dirname "$0")/.."

swift_protobuf_version=$(sed -n 's|.*apple/swift-protobuf.git", from: "\([0-9.]*\)".*|\1|p' Package.swift)
plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
    plugin=.build-protoc/swift-protobuf/.build/release/protoc-gen-swift
    if [ ! -x "$plugin" ]; then
        mkdir -p .build-protoc
        rm -rf .build-protoc/swift-protobuf
        git clone --quiet --branch "$swift_protobuf_version" --depth 1 \
            https://github.com/apple/swift-protobuf.git .build-protoc/swift-protobuf
        (cd .build-protoc/swift-protobuf && swift build -c release --product protoc-gen-swift)
    fi
fi

generate() {
    local out=$1; shift
    rm -f "$out"/*.pb.swift
    mkdir -p "$out"
    protoc --plugin=protoc-gen-swift="$plugin" \
        --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores --swift_opt=UseAccessLevelOnImports=true \
        --swift_out="$out" -I Protos "$@"
}

generate Sources/DemandScreenWire/Generated demandscreen/v1/frame.proto
generate Sources/DemandScreenAPI/Generated demandscreen/v1/screening.proto grpc/health/v1/health.proto

Scripts/check-generated-protos.sh --print > Protos/generated.sha256
echo "generated; recorded $(cat Protos/generated.sha256)"
