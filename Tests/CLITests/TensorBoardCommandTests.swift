import Foundation
import Testing
import TestSupport
@testable import TensorBoard

/// `--tensorboard DIR` on the commands that log: the event file each writes, read back with our own framing and
/// protobuf types (Tools/read_tensorboard.py reads the same files with TensorBoard's EventAccumulator).
@Suite("convlens --tensorboard", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct TensorBoardCommandTests {
    let scratch: ScratchFolder
    let digit = "Sources/BundledModel/digits/digit_7_0013.png"

    init() throws { scratch = try ScratchFolder("convlens-tensorboard") }

    @Test func filtersLogEveryChannelsObjectiveEveryStepAndTheImages() throws {
        let folder = scratch.path("filters")
        let result = try ConvLensProcess.run(["filters", "--channels", "2,5", "--steps", "12", "--size", "32",
                                              "--tensorboard", folder, "--tensorboard-images", "5", "--out", scratch.path("f.png")])
        #expect(result.status == 0, "\(result.error)")
        let logged = try loggedEvents(in: folder)
        func isImage(_ event: Tensorboard_Event) -> Bool {
            if case .image? = event.summary.value.first?.value { true } else { false }
        }
        let scalars = logged.filter { !isImage($0) }
        #expect(scalars.map(\.step) == Array(1...12))
        #expect(scalars[0].summary.value.map(\.tag) == ["objective/channel_2", "objective/channel_5"])
        let images = logged.filter(isImage)
        #expect(images.map(\.step) == [5, 10, 12])
        // The default layer, the last convolution's output, without its leading slash.
        #expect(images.allSatisfy { $0.summary.value[0].tag == "filters/features/features.15/BatchNormalization_output_0" })
    }

    @Test func camSaliencyAndBenchLogTheirResults() throws {
        let folder = scratch.path("digits")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["digit_3_0003.png", "digit_7_0013.png"] {
            try FileManager.default.copyItem(atPath: ConvLensProcess.repositoryRoot.appendingPathComponent("Sources/BundledModel/digits/\(name)").path,
                                             toPath: "\(folder)/\(name)")
        }
        let cam = try ConvLensProcess.run(["cam", "--input", folder, "--top", "2", "--out", scratch.path("maps"),
                                           "--tensorboard", scratch.path("cam")])
        #expect(cam.status == 0, "\(cam.error)")
        let overlays = try loggedEvents(in: scratch.path("cam"))
        #expect(overlays.map { "\($0.summary.value[0].tag)@\($0.step)" }
            == ["cam/gradcam/top1@0", "cam/gradcam/top1@1", "cam/gradcam/top2@0", "cam/gradcam/top2@1"])

        let saliency = try ConvLensProcess.run(["saliency", "--input", digit, "--out", scratch.path("s.png"),
                                                "--tensorboard", scratch.path("saliency")])
        #expect(saliency.status == 0, "\(saliency.error)")
        let picture = try #require(try loggedEvents(in: scratch.path("saliency")).first?.summary.value.first)
        #expect(picture.tag == "saliency/gradient" && picture.image.width > 0)

        let bench = try ConvLensProcess.run(["bench", "--suite", "ops", "--layer", "dw3x3", "--batches", "1", "--runs", "1",
                                             "--warmup", "0", "--profile", "--tensorboard", scratch.path("bench")])
        #expect(bench.status == 0, "\(bench.error)")
        let tags = try loggedEvents(in: scratch.path("bench")).flatMap { $0.summary.value.map(\.tag) }
        #expect(tags.contains { $0.hasPrefix("bench/") && $0.hasSuffix("/median_ms") }, "\(tags)")
        #expect(tags.contains { $0.hasSuffix("/gflops") }, "\(tags)")
        #expect(tags.contains { $0.hasPrefix("kernels/") && $0.hasSuffix("/device_ms") }, "\(tags)")
    }
}
