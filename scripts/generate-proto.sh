#!/usr/bin/env bash
# Makes the Swift code for proto/keyprovider.proto (ocicrypt's KeyProviderService) into
# Sources/CPKKeyProviderServer/Generated/, with protoc and the two code generators of the very
# package versions Package.swift depends on: protoc-gen-swift (swift-protobuf) and
# protoc-gen-grpc-swift-2 (grpc-swift-protobuf).
#
# Run by hand (`make proto`) when the .proto or those versions change, and commit the output.
# The build itself never runs protoc: SwiftPM's protobuf build plugin would add about ten
# minutes to every clean build (CI's included) for two small messages.
#
# The generators are built from the package checkouts that `swift package resolve` made in
# .build/checkouts, into a scratch directory outside the tree (PROTO_PLUGINS_DIR); give
# PROTOC_GEN_SWIFT and PROTOC_GEN_GRPC_SWIFT to use generators built elsewhere. protoc itself
# is Debian's protobuf-compiler.
set -euo pipefail
cd "$(dirname "$0")/.."

out=Sources/CPKKeyProviderServer/Generated
plugins=${PROTO_PLUGINS_DIR:-${TMPDIR:-/tmp}/cpk-proto-plugins}

command -v protoc >/dev/null || { echo "generate-proto: no protoc (apt-get install protobuf-compiler)" >&2; exit 2; }

if [ -z "${PROTOC_GEN_SWIFT:-}" ] || [ -z "${PROTOC_GEN_GRPC_SWIFT:-}" ]; then
  swift package resolve
  for package in swift-protobuf grpc-swift-protobuf; do
    [ -d ".build/checkouts/$package" ] || { echo "generate-proto: no .build/checkouts/$package" >&2; exit 2; }
  done
  # grpc-swift-protobuf's own manifest brings swift-protobuf: one build makes both generators.
  swift build -c release --package-path .build/checkouts/grpc-swift-protobuf --scratch-path "$plugins" \
    --product protoc-gen-grpc-swift-2
  swift build -c release --package-path .build/checkouts/grpc-swift-protobuf --scratch-path "$plugins" \
    --product protoc-gen-swift
  PROTOC_GEN_SWIFT=$plugins/release/protoc-gen-swift
  PROTOC_GEN_GRPC_SWIFT=$plugins/release/protoc-gen-grpc-swift-2
fi

mkdir -p "$out"
# Internal visibility: only this target uses the types; the server half only (the tests'
# client is Python's grpcio, generated at test time from the same .proto).
protoc --proto_path=proto \
  --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
  --plugin=protoc-gen-grpc-swift-2="$PROTOC_GEN_GRPC_SWIFT" \
  --swift_out="$out" --swift_opt=Visibility=Internal \
  --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Internal,Server=true,Client=false \
  keyprovider.proto
echo "generate-proto: wrote $(ls "$out" | tr '\n' ' ')"
