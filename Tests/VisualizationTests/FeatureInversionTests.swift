import BackendParity
import BundledModel
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing
@testable import Visualization

/// Feature inversion on the bundled model: the reconstruction from a shallow layer is the digit, layers in one batch
/// do not disturb each other, the device follows the reference, and bad requests are refused.
@Suite("Feature inversion", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct FeatureInversionTests {
    let graph: Graph
    let digit: HostTensor
    let shallow = "/features/features.5/Relu", deep = "/features/features.12/Relu"

    init() throws {
        graph = try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name)
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/BundledModel/digits/digit_7_0013.png").standardized.path
        digit = try ImagePreprocessing.mnist.tensor(from: [RasterImage(contentsOf: file)])
    }

    /// Priors light enough for MNIST's strokes, every one of which lies far beyond a natural image's bound.
    func settings(_ layers: [String], steps: Int, priorWeight: Float = 0.01) -> FeatureInversionSettings {
        var settings = FeatureInversionSettings(layers: layers, size: 28, mean: [0.1307], std: [0.3081])
        settings.image.steps = steps
        settings.prior = NaturalImagePrior(alphaWeight: priorWeight, tvWeight: priorWeight)
        return settings
    }

    /// The digit as [0, 1] pixels.
    var pixels: [Float] { digit.values.map { $0 * 0.3081 + 0.1307 } }

    /// From a shallow layer the optimizer brings the representation within a quarter of its size of the input's,
    /// from farther than its whole size, and the picture is the digit (correlation with its pixels above 0.9).
    @Test func aShallowLayersReconstructionIsTheDigit() throws {
        let result = try FeatureInverter(graph: graph, backend: try TestBackends.device(),
                                         settings: settings([shallow], steps: 150, priorWeight: 0.002), input: digit).run()
        #expect(result.initialDistances[0] > 1 && result.finalDistances[0] < 0.25,
                "distance \(result.initialDistances[0]) → \(result.finalDistances[0])")
        #expect(correlation(result.images.values, pixels) > 0.9, "correlation \(correlation(result.images.values, pixels))")
    }

    /// Each layer's seed reaches only its own image: with the pixel parameterization the first image starts from the
    /// same noise in a one-layer run, and ends where that run ends.
    @Test func layersInOneBatchDoNotDisturbEachOther() throws {
        let device = try TestBackends.device()
        let together = try FeatureInverter(graph: graph, backend: device, settings: settings([shallow, deep], steps: 20), input: digit).run()
        let alone = try FeatureInverter(graph: graph, backend: device, settings: settings([shallow], steps: 20), input: digit).run()
        #expect(together.images.shape == [2, 1, 28, 28])
        expectClose(Array(together.images.values.prefix(784)).map(Double.init), alone.images.values.map(Double.init),
                    relativeL2: 1e-4, "the shallow layer's image, alone and in a batch")
        #expect(abs(together.finalDistances[0] - alone.finalDistances[0]) < 1e-3)
    }

    @Test func theDeviceFollowsTheReferenceAndRepeatsByteForByte() throws {
        let s = settings([shallow, deep], steps: 5)
        let device = try TestBackends.device()
        let first = try FeatureInverter(graph: graph, backend: device, settings: s, input: digit).run()
        let second = try FeatureInverter(graph: graph, backend: device, settings: s, input: digit).run()
        #expect(first.images.values.map(\.bitPattern) == second.images.values.map(\.bitPattern))
        let reference = try FeatureInverter(graph: graph, backend: ReferenceBackend(), settings: s, input: digit).run()
        expectClose(first.images.values.map(Double.init), reference.images.values.map(Double.init),
                    relativeL2: Tolerance.deviceVsReference, "images after 5 steps")
    }

    @Test func badRequestsAreRefused() throws {
        let device = try TestBackends.device()
        func refusal(_ s: FeatureInversionSettings, input: HostTensor? = nil) -> String {
            do {
                _ = try FeatureInverter(graph: graph, backend: device, settings: s, input: input ?? digit)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(settings([shallow, "/features/features.5/Relu_output_0"], steps: 5)).contains("is given twice"))
        #expect(refusal(settings([], steps: 5)) == "no layer to invert")
        #expect(refusal(settings(["/features/features.99/Relu"], steps: 5)).contains("not found"))
        #expect(refusal(settings([shallow], steps: 5), input: HostTensor(shape: [1, 1, 28, 27], values: Array(repeating: 0, count: 756)))
            .contains("one square 1-channel image of 28 px"))
        var maco = settings([shallow], steps: 5)
        maco.image.parameterization = .maco
        #expect(refusal(maco).contains("inversion matches the whole image"))
        var prior = settings([shallow], steps: 5)
        prior.prior.alpha = 0.5
        #expect(refusal(prior).contains("--alpha must be from 1 to 16"))
    }

    private func correlation(_ a: [Float], _ b: [Float]) -> Double {
        let (ma, mb) = (a.reduce(0.0) { $0 + Double($1) } / Double(a.count), b.reduce(0.0) { $0 + Double($1) } / Double(b.count))
        var (ab, aa, bb) = (0.0, 0.0, 0.0)
        for (x, y) in zip(a, b) {
            let (dx, dy) = (Double(x) - ma, Double(y) - mb)
            (ab, aa, bb) = (ab + dx * dy, aa + dx * dx, bb + dy * dy)
        }
        return ab / max((aa * bb).squareRoot(), 1e-30)
    }
}
