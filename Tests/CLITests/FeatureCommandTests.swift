import Foundation
import ImageIO
import TensorOps
import Testing
import TestSupport

/// `projections` and `invert` as a user meets them on the bundled model: pictures written, progress and distances
/// printed, and every bad request refused with one line, a non-zero exit and no output file.
@Suite("convlens projections and invert", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct FeatureCommandTests {
    let scratch: ScratchFolder
    let digit = "Sources/BundledModel/digits/digit_7_0013.png"

    init() throws { scratch = try ScratchFolder("convlens-features") }

    private func path(_ name: String) -> String { scratch.path(name) }

    /// A projections sheet over a folder with one unreadable file: written, the bad file named, a non-zero exit;
    /// requests the images cannot serve are refused before anything is written.
    @Test func projectionsRankAFolderAndRefuseBadRequests() throws {
        let folder = path("digits")
        try FileManager.default.copyItem(
            atPath: ConvLensProcess.repositoryRoot.appendingPathComponent("Sources/BundledModel/digits").path, toPath: folder)
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(folder)/broken.png"))
        let layer = ["projections", "--input", folder, "--layer", "/features/features.12/Relu"]
        let result = try ConvLensProcess.run(layer + ["--channels", "0-3", "--top", "4", "--batch", "3", "--out", path("p.png")])
        #expect(result.status != 0 && result.error.contains("1 of 11 images could not be read"), "\(result.error)")
        #expect(result.output.contains("channel 3: ") && FileManager.default.fileExists(atPath: path("p.png")), "\(result.output)")
        let digits = ["projections", "--input", "Sources/BundledModel/digits", "--layer", "/features/features.12/Relu"]
        try ConvLensProcess.expectRefusal(digits + ["--top", "11", "--out", path("p1.png")], mentioning: "--top 11 is more than the 10 activations available")
        try ConvLensProcess.expectRefusal(digits + ["--channels", "40", "--out", path("p2.png")], mentioning: "channel 40 is outside the layer's 32 channels")
        try ConvLensProcess.expectRefusal(["projections", "--input", "Sources/BundledModel/digits", "--layer", "/classifier/Gemm", "--out", path("p3.png")],
                          mentioning: "has no spatial extent")
        try ConvLensProcess.expectRefusal(["projections", "--input", path("none"), "--layer", "/features/features.2/Relu", "--out", path("p4.png")],
                          mentioning: "does not exist")
        for name in ["p1.png", "p2.png", "p3.png", "p4.png"] { #expect(!FileManager.default.fileExists(atPath: path(name))) }
    }

    @Test func invertWritesTheRowOfReconstructionsAndRefusesBadRequests() throws {
        let result = try ConvLensProcess.run(["invert", "--input", digit, "--layers", "/features/features.2/Relu,/features/features.9/Relu",
                                              "--layer", "logits", "--steps", "30", "--out", path("i.png"), "--save-npy", path("i.npy")])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("3: 'logits': relative distance"), "\(result.output)")
        #expect(result.output.contains("step 30/30"), "\(result.output)")
        #expect(FileManager.default.fileExists(atPath: path("i.png")) && FileManager.default.fileExists(atPath: path("i.npy")))
        let invert = ["invert", "--input", digit, "--steps", "5"]
        try ConvLensProcess.expectRefusal(invert + ["--out", path("i1.png")], mentioning: "give --layer (repeatable) or --layers")
        try ConvLensProcess.expectRefusal(invert + ["--layer", "/features/features.99/Relu", "--out", path("i2.png")], mentioning: "not found")
        try ConvLensProcess.expectRefusal(invert + ["--layer", "logits", "--alpha", "0", "--out", path("i3.png")],
                                          mentioning: "--alpha must be from 1 to 16, got 0")
        try NPYFile.write(HostTensor(shape: [1, 1, 28, 20], values: Array(repeating: 0, count: 560)), to: path("wide.npy"))
        try ConvLensProcess.expectRefusal(["invert", "--input", path("wide.npy"), "--layer", "logits", "--out", path("i4.png")],
                                          mentioning: "invert needs one square image")
        try ConvLensProcess.expectRefusal(invert + ["--layer", "logits", "--param", "maco", "--out", path("i5.png")],
                                          mentioning: "inversion matches the whole image")
        try ConvLensProcess.expectRefusal(["projections", "--input", digit, "--layer", "logits", "--top", "0", "--out", path("i6.png")],
                                          mentioning: "--top must be from 1 to 1024, got 0")
        for name in ["i1.png", "i2.png", "i3.png", "i4.png", "i5.png", "i6.png"] { #expect(!FileManager.default.fileExists(atPath: path(name))) }
    }
}
