#!/usr/bin/env bash
# Regenerates Sources/ModelGraph/ONNX/onnx-subset.pb.swift from onnx-subset.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift from swift-protobuf 1.39.0, built once with
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf && cd swift-protobuf &&
#   swift build -c release --product protoc-gen-swift
# then PROTOC_GEN_SWIFT=/path/to/swift-protobuf/.build/release/protoc-gen-swift Tools/generate_onnx_swift.sh
# The generated file is committed: neither the build nor the tests run this.
set -euo pipefail
cd "$(dirname "$0")/../Sources/ModelGraph/ONNX"
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift)}"
# Visibility internal: the protobuf types stay inside ModelGraph; the rest of ConvLens sees our Graph.
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal --swift_out=. onnx-subset.proto
echo "wrote $(pwd)/onnx-subset.pb.swift"
