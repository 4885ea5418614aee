#!/usr/bin/env bash
# Regenerates the Swift of ConvLens's two protobuf subsets, each beside its .proto:
#   Sources/ModelGraph/ONNX/onnx-subset.proto            -> onnx-subset.pb.swift (what ONNX import reads)
#   Sources/TensorBoard/Proto/tensorboard-subset.proto   -> tensorboard-subset.pb.swift (the events --tensorboard writes)
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift from swift-protobuf 1.39.0, built once with
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf && cd swift-protobuf &&
#   swift build -c release --product protoc-gen-swift
# (or from the copy SwiftPM keeps in .build/checkouts/swift-protobuf), then
#   PROTOC_GEN_SWIFT=/path/to/swift-protobuf/.build/release/protoc-gen-swift Tools/generate_protobuf_swift.sh
# The generated files are committed: neither the build nor the tests run this.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift)}"
# Visibility internal: the protobuf types stay inside their module; the rest of ConvLens sees its own types.
for proto in Sources/ModelGraph/ONNX/onnx-subset.proto Sources/TensorBoard/Proto/tensorboard-subset.proto; do
    (cd "$(dirname "$proto")" &&
        protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal --swift_out=. "$(basename "$proto")")
    echo "wrote ${proto%.proto}.pb.swift"
done
