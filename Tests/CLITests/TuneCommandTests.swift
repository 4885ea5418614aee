import Foundation
import TestSupport
import Testing

/// `convlens tune` end to end, in a cache folder of its own: the local-tile search, the stored table and what
/// `--show` prints of it.
@Suite("convlens tune", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct TuneCommandTests {
    let scratch: ScratchFolder

    init() throws { scratch = try ScratchFolder("convlens-tune") }

    /// The bundled model's convolutions alone (no bench layer is named "none"), with --local on the CPU: every shape
    /// class gets a tiling and its measurement, the file keeps them, and --show prints them back; --clear deletes it.
    @Test func localTilingsAreSearchedKeptAndShown() throws {
        let environment = ["XDG_CACHE_HOME": scratch.path("cache")]
        let result = try ConvLensProcess.run(
            ["tune", "--model", "Sources/BundledModel/mnist_cnn.onnx", "--layer", "none", "--batches", "1", "--local",
             "--local-samples", "2", "--runs", "1", "--minutes", "5"], environment: environment)
        #expect(result.status == 0, "\(result.error)")
        let classes = result.output.split(separator: "\n").filter { $0.hasPrefix("local tiles for ") }
        #expect(classes.count >= 4, "\(result.output)")
        for product in ["gemm", "forward", "backward_input", "backward_weight"] {
            #expect(classes.contains { $0.hasPrefix("local tiles for \(product),") }, "\(product) in \(result.output)")
        }
        let folder = URL(fileURLWithPath: scratch.path("cache/convlens/tuning"))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(files.count == 1)
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(files[0])))
            as? [String: Any]
        let local = stored?["localTilings"] as? [[String: Any]] ?? []
        #expect(local.count == classes.count)
        #expect(local.allSatisfy { ($0["candidates"] as? Int ?? 0) >= 2 && $0["tiling"] is [String: Any] })

        let shown = try ConvLensProcess.run(["tune", "--show"], environment: environment)
        #expect(shown.output.split(separator: "\n").filter { $0.hasPrefix("local tiles for ") }.count == classes.count)
        try ConvLensProcess.expectRefusal(["tune", "--layer", "none", "--batches", "1"],
                                          mentioning: "nothing to tune: no bench layer's name contains 'none'")
        #expect(try ConvLensProcess.run(["tune", "--clear"], environment: environment).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// CONVLENS_DEVICE_CLASS=gpu runs the bundled model with a GPU's defaults on whatever device: its convolutions
    /// on the local-tile kernels, the same prediction; a name that is no class is refused in one line.
    @Test func anotherDeviceClassesDefaultsRunOnThisDevice() throws {
        let digit = "Sources/BundledModel/digits/digit_7_0013.png"
        let environment = ["XDG_CACHE_HOME": scratch.path("cache"), "CONVLENS_DEVICE_CLASS": "gpu"]
        let result = try ConvLensProcess.run(["forward", "--input", digit, "--top", "1", "--profile"], environment: environment)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("conv2d forward implicit_gemm_local"), "\(result.output)")
        #expect(result.output.contains("matmul_local") || result.output.contains("conv2d_local_forward"), "\(result.output)")
        // The rank-1 row's rank, class and label (the scores round differently).
        func top(_ output: String) -> [Substring] {
            output.split(separator: "\n").first { $0.split(separator: " ").first == "1" }?.split(separator: " ").prefix(3)
                .map { $0 } ?? []
        }
        let plain = try ConvLensProcess.run(["forward", "--input", digit, "--top", "1"])
        #expect(top(result.output) == ["1", "7", "7"] && top(plain.output) == top(result.output), "\(plain.output)")
        let refused = try ConvLensProcess.run(["forward", "--input", digit], environment: ["CONVLENS_DEVICE_CLASS": "tpu"])
        #expect(refused.status != 0)
        #expect(refused.error.split(separator: "\n").count == 1, "\(refused.error)")
        #expect(refused.error.contains("CONVLENS_DEVICE_CLASS=tpu is not a device class; use one of cpu-avx512"),
                "\(refused.error)")
    }
}
