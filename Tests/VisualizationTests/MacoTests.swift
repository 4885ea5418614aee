import BackendParity
import Foundation
import BundledModel
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing
@testable import Visualization

/// MaCo (`--param maco`) on `RandomColourCNN`, on the device and the reference.
@Suite("MaCo", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct MacoTests {
    let graph = RandomColourCNN.graph()

    func settings(channels: [Int] = [0, 1, 2], steps: Int = 6) -> FilterVisualizationSettings {
        var s = FilterVisualizationSettings(layer: "conv3", channels: channels, mean: [0.485, 0.456, 0.406],
                                            std: [0.229, 0.224, 0.225])
        (s.parameterization, s.size, s.steps, s.learningRate) = (.maco, 40, steps, 1)
        (s.maco.crops, s.maco.cropSize, s.maco.cropScale) = (3, 28, 0.3...0.9)
        return s
    }

    /// Every channel's objective on its whole image rises, and the transparency map holds what the steps summed.
    @Test func everyChannelRisesAndTheTransparencyIsKept() throws {
        let result = try FilterVisualizer(graph: graph, backend: try TestBackends.device(),
                                          settings: settings(channels: Array(0..<6), steps: 48)).run()
        for (channel, (before, after)) in zip(result.initialObjectives, result.finalObjectives).enumerated() {
            #expect(after > before + 0.1, "channel \(channel): \(before) → \(after)")
        }
        let transparency = try #require(result.transparency)
        #expect(transparency.shape == [6, 3, 40, 40])
        #expect(transparency.values.allSatisfy { $0 >= 0 } && transparency.values.contains { $0 > 0 })
        let maps = try #require(result.transparencyMaps)
        #expect(maps.shape == [6, 1, 40, 40])
        #expect(maps.values.allSatisfy { (0...1).contains($0) } && maps.values.contains(1))
    }

    @Test func aSeededRunRepeatsByteForByteAndTheReferenceReplaysIt() throws {
        let s = settings()
        let first = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        let second = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        #expect(first.images.values.map(\.bitPattern) == second.images.values.map(\.bitPattern))
        #expect(first.transparency?.values.map(\.bitPattern) == second.transparency?.values.map(\.bitPattern))
        let reference = try FilterVisualizer(graph: graph, backend: ReferenceBackend(), settings: s).run()
        expectClose(first.images.values, reference.images.values, relativeL2: Tolerance.modelVsONNXRuntime, "final images")
    }

    /// The image keeps the table's magnitude spectrum whatever the phase: on the reference, each image's standardized
    /// inverse DFT (the decorrelated colours before the sigmoid) has |rfft2| equal to the table times one factor per
    /// image (the standardization's 1/σ).
    @Test func theImageKeepsTheMagnitudeSpectrum() throws {
        let backend = ReferenceBackend()
        let table = try MacoSpectrum.natural()
        let stages = try MacoPhase(backend: backend, table: table, imageShape: [2, 3, 40, 40])
        var random = SeededGenerator(seed: 5)
        let phase = try backend.upload(.randomNormal([2, 3, 40, 21], scale: 3, using: &random))
        let linear = try backend.makeTensor([2, 3, 40, 40])
        try stages.render(phase: phase, into: linear)
        let spectrum = OctaveTransfer.rfft2(try backend.download(linear).values.map(Double.init), shape: [2, 3, 40, 40])
        let magnitude = MacoSpectrum.resized(table, height: 40, columns: 21).values.map(Double.init)
        for image in 0..<2 {
            // Columns 1…19 only: irfft2 keeps the Hermitian-symmetric part of the DC and Nyquist columns, not their
            // random phases.
            let ratios: [Double] = (0..<3).flatMap { channel in
                (0..<40).flatMap { row in (1..<20).map { row * 21 + $0 } }.map { entry in
                    let index = ((image * 3 + channel) * 840 + entry) * 2
                    let modulus: Double = hypot(spectrum[index], spectrum[index + 1])
                    return modulus / magnitude[channel * 840 + entry]
                }
            }
            let first = ratios[0]
            #expect(ratios.allSatisfy { abs($0 / first - 1) < 1e-5 }, "image \(image): ratios \(ratios.min()!)…\(ratios.max()!)")
        }
    }

    @Test func badRequestsAreRefusedWithReasons() throws {
        let backend = try TestBackends.device()
        func refusal(_ s: FilterVisualizationSettings, graph: Graph? = nil) throws -> String {
            try #require(throws: VisualizationError.self) {
                try FilterVisualizer(graph: graph ?? self.graph, backend: backend, settings: s)
            }.description
        }
        var gray = FilterVisualizationSettings(layer: "/features/features.14/Conv", channels: [0], mean: [0.1307],
                                               std: [0.3081])
        gray.parameterization = .maco
        let bundled = try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name)
        #expect(try refusal(gray, graph: bundled).hasPrefix("--param maco needs a 3-channel model"))
        var s = settings()
        s.maco.cropScale = 0.5...1.5
        #expect(try refusal(s) == "--crop-scale 1.5 would take crops larger than the image; the largest is 1")
        s = settings()
        s.octaves = 2
        #expect(try refusal(s).hasPrefix("--param maco has no octaves"))
        s = settings()
        s.maco.magnitude = HostTensor(shape: [1, 4, 3], values: Array(repeating: 1, count: 12))
        #expect(try refusal(s) == "the MaCo spectrum: a MaCo spectrum must be 3×H×F magnitudes, got 1×4×3")
    }
}
