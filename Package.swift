// swift-tools-version: 6.0
import PackageDescription

// ConvLens: CNN visualization on OpenCL devices, every op verified against a plain-Swift reference.
// The folder tree mirrors the layers in ARCHITECTURE.md: C shims -> OpenCL runtime -> tensor ops (Backend
// protocol) -> reference and OpenCL backends -> parity checks -> the `convlens` command.
let package = Package(
    name: "ConvLens",
    products: [
        .library(
            name: "ConvLens",
            targets: [
                "TensorOps", "ReferenceBackend", "OpenCLRuntime", "OpenCLBackend", "BackendParity", "ImageIO",
                "ModelGraph", "BundledModel", "Visualization", "FileAccess", "TensorBoard", "ConvLensCLI",
            ]
        ),
        .executable(name: "convlens", targets: ["convlens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C shims. Only OpenCLRuntime and ImageIO import them, never publicly.
        .systemLibrary(
            name: "COpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]
        ),
        .systemLibrary(
            name: "CPNG",
            providers: [.apt(["libpng-dev"])]
        ),
        .systemLibrary(
            name: "CJPEG",
            providers: [.apt(["libjpeg-dev"])]
        ),

        .target(name: "OpenCLRuntime", dependencies: ["COpenCL"]),
        .target(name: "TensorOps"),
        .target(name: "FileAccess"),
        .target(name: "ReferenceBackend", dependencies: ["TensorOps"]),
        .target(
            name: "OpenCLBackend",
            dependencies: ["TensorOps", "OpenCLRuntime"],
            plugins: ["EmbedKernels"]
        ),
        .target(name: "BackendParity", dependencies: ["TensorOps", "ReferenceBackend"]),
        .target(name: "ImageIO", dependencies: ["CPNG", "CJPEG", "TensorOps", "FileAccess"]),
        // Graph, ONNX import (our own subset of onnx.proto, generated Swift committed) and the executor.
        .target(
            name: "ModelGraph",
            dependencies: ["TensorOps", "FileAccess", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["ONNX/onnx-subset.proto"]
        ),
        // TensorBoard event files: TFRecord framing with CRC-32C and our own subset of its Event and Summary protos
        // (generated Swift committed).
        .target(
            name: "TensorBoard",
            dependencies: ["ImageIO", "FileAccess", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto/tensorboard-subset.proto"]
        ),
        // Filter visualization, class activation maps and sheets, written against Backend only; MaCo's magnitude
        // spectrum (Tools/maco_spectrum.py) embedded by the EmbedDataFiles plugin.
        .target(
            name: "Visualization",
            dependencies: ["TensorOps", "ModelGraph", "ImageIO"],
            exclude: ["Resources"],
            plugins: ["EmbedDataFiles"]
        ),
        // The default model (Tools/train_mnist.py), embedded in the binary by the EmbedDataFiles plugin.
        .target(
            name: "BundledModel",
            exclude: ["mnist_cnn.onnx", "digits", "TRAINING.md"],
            plugins: ["EmbedDataFiles"]
        ),
        // The commands (a library, so the fuzzers can parse command lines); `convlens` is its one-line main.
        .target(
            name: "ConvLensCLI",
            dependencies: [
                "TensorOps", "ReferenceBackend", "OpenCLRuntime", "OpenCLBackend", "BackendParity", "ImageIO",
                "ModelGraph", "BundledModel", "Visualization", "FileAccess", "TensorBoard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "convlens", dependencies: ["ConvLensCLI"]),

        // Kernels/*.cl, the bundled model and data tables -> Swift string constants, so a relocated binary carries them.
        .executableTarget(name: "EmbedFiles", path: "Tools/EmbedFiles"),
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["EmbedFiles"]),
        .plugin(name: "EmbedDataFiles", capability: .buildTool(), dependencies: ["EmbedFiles"]),

        // Shared by the test targets: tolerances' users, random tensors, finite differences, backend fixtures.
        .target(
            name: "TestSupport",
            dependencies: ["TensorOps", "ReferenceBackend", "OpenCLBackend", "OpenCLRuntime", "BackendParity"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TensorOpsTests", dependencies: ["TensorOps", "TestSupport"]),
        .testTarget(
            name: "ReferenceBackendTests",
            dependencies: ["ReferenceBackend", "TensorOps", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "OpenCLBackendTests",
            dependencies: ["OpenCLBackend", "ReferenceBackend", "BackendParity", "TensorOps", "TestSupport"]
        ),
        .testTarget(name: "OpenCLRuntimeTests", dependencies: ["OpenCLRuntime", "TestSupport"]),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "TensorOps"], resources: [.copy("Fixtures")]),
        // Runs the built `convlens` binary as a user would: exit codes, one-line errors, no partial files.
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard", "ImageIO"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "ImageIO", "TensorOps", "TensorBoard"]),
        .testTarget(
            name: "VisualizationTests",
            dependencies: ["Visualization", "ModelGraph", "BundledModel", "ReferenceBackend", "TensorOps", "TestSupport", "ImageIO"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ModelGraphTests",
            dependencies: [
                "ModelGraph", "BundledModel", "ImageIO", "TensorOps", "ReferenceBackend", "OpenCLBackend",
                "BackendParity", "TestSupport",
            ],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
