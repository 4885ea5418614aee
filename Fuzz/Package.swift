// swift-tools-version:6.0
// libFuzzer targets for everything ConvLens reads from outside: ONNX models (import and graph planning), NPY arrays,
// PNG and JPEG images, and the command line. Built and run by Tools/fuzz.sh, which compiles every module with
// -sanitize=fuzzer,address (AddressSanitizer, LeakSanitizer and libFuzzer's coverage counters). SwiftPM links each
// executable with `main = <Module>_main`, so each fuzz target defines that entry point and enters libFuzzer's driver
// from it (FuzzSupport); libFuzzer's own main is never linked. Never part of the main build or `swift test`.
import PackageDescription

let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "ConvLensFuzz",
    dependencies: [.package(name: "ConvLens", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzONNXImport", dependencies: ["FuzzSupport", .product(name: "ConvLens", package: "ConvLens")],
                          swiftSettings: fuzzer),
        .executableTarget(name: "FuzzNPY", dependencies: ["FuzzSupport", .product(name: "ConvLens", package: "ConvLens")],
                          swiftSettings: fuzzer),
        .executableTarget(name: "FuzzPNG", dependencies: ["FuzzSupport", .product(name: "ConvLens", package: "ConvLens")],
                          swiftSettings: fuzzer),
        .executableTarget(name: "FuzzJPEG", dependencies: ["FuzzSupport", .product(name: "ConvLens", package: "ConvLens")],
                          swiftSettings: fuzzer),
        .executableTarget(name: "FuzzArguments", dependencies: ["FuzzSupport", .product(name: "ConvLens", package: "ConvLens")],
                          swiftSettings: fuzzer),
    ],
    swiftLanguageModes: [.v6]
)
