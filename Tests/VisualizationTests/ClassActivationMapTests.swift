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

/// Class activation maps on the bundled model: device against reference, normalization, and refusals.
@Suite("Class activation maps", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct ClassActivationMapTests {
    let graph: Graph
    let input: HostTensor

    init() throws {
        graph = try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name)
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/BundledModel/digits").standardized.path
        let digits = try ["digit_3_0003.png", "digit_7_0013.png"].map { try RasterImage(contentsOf: "\(folder)/\($0)") }
        input = try ImagePreprocessing.mnist.tensor(from: digits)
    }

    /// Score-CAM is left out here: its 128 masked forwards take minutes on the plain-Swift reference; it is checked
    /// against pytorch-grad-cam on three models instead.
    @Test(arguments: CAMMethod.allCases.filter { $0 != .scoreCAM })
    func theDeviceMapMatchesTheReferenceAndSpansZeroToOne(method: CAMMethod) throws {
        let device = try TestBackends.device()
        let onDevice = try ClassActivationMapper(graph: graph, backend: device, layers: [], method: method, inputShape: input.shape)
        let result = try onDevice.explain(try device.upload(input))
        let maps = try device.download(result.maps)
        #expect(result.classes == [3, 7])
        #expect(maps.shape == [2, 1, 28, 28])
        for image in 0..<2 {
            let values = maps.values[image * 784..<(image + 1) * 784]
            #expect(abs((values.min() ?? -1) - 0) < 1e-6 && abs((values.max() ?? 0) - 1) < 1e-5)
        }
        let reference = ReferenceBackend()
        let onReference = try ClassActivationMapper(graph: graph, backend: reference, layers: [], method: method,
                                                    inputShape: input.shape)
        let expected = try reference.download(try onReference.explain(try reference.upload(input)).maps)
        expectClose(maps.values.map(Double.init), expected.values.map(Double.init), relativeL2: Tolerance.modelVsONNXRuntime,
                    "\(method.rawValue) map")
    }

    /// With a global-average-pool + linear head, Grad-CAM's weights are the linear weights over h·w: the original
    /// CAM and Grad-CAM give the same map on the pooled layer.
    @Test func camEqualsGradCAMOnAPooledLinearHead() throws {
        let device = try TestBackends.device()
        let cam = try ClassActivationMapper(graph: graph, backend: device, layers: [], method: .cam, inputShape: input.shape)
        let gradCAM = try ClassActivationMapper(graph: graph, backend: device, layers: cam.layers, method: .gradCAM,
                                                inputShape: input.shape)
        let a = try device.download(try cam.explain(try device.upload(input)).maps)
        let b = try device.download(try gradCAM.explain(try device.upload(input)).maps)
        expectClose(a.values.map(Double.init), b.values.map(Double.init), relativeL2: Tolerance.modelVsONNXRuntime, "CAM vs Grad-CAM")
        let wrongLayer = try #require(throws: VisualizationError.self) {
            try ClassActivationMapper(graph: graph, backend: device, layers: ["/features/features.14/Conv"], method: .cam,
                                      inputShape: input.shape)
        }
        #expect(wrongLayer.description.contains("is not the global average pool's input"))
    }

    /// Spearman's ρ on hand-checked cases: monotone 1, reversed −1, ties at their mean rank.
    @Test func spearmanRankCorrelation() {
        #expect(abs(CascadingRandomization.spearman([1, 2, 3, 4], [10, 20, 35, 90]) - 1) < 1e-12)
        #expect(abs(CascadingRandomization.spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12)
        // Ranks (0.5, 0.5, 2) and (0, 1, 2): ρ = 0.75 / √(0.5 · 2) = 0.866…
        #expect(abs(CascadingRandomization.spearman([5, 5, 7], [1, 2, 3]) - 0.75.squareRoot()) < 1e-12)
        #expect(CascadingRandomization.spearman([1, 1, 1], [1, 2, 3]) == 0)
    }

    /// Grad-CAM on the bundled model passes the cascading-randomization test: once the convolutions are random too,
    /// the map no longer ranks pixels as the trained model's does.
    @Test func gradCAMChangesAsTheModelIsRandomized() throws {
        let device = try TestBackends.device()
        let mapper = try ClassActivationMapper(graph: graph, backend: device, layers: [], method: .gradCAM, inputShape: input.shape)
        let original = try mapper.explain(try device.upload(input))
        let steps = try CascadingRandomization(graph: graph, method: .gradCAM, layers: mapper.layers)
            .run(backend: device, input: input, classes: original.classes, original: try device.download(original.maps))
        #expect(steps.map(\.layer).first == "/classifier/Gemm")
        #expect(steps.count == 6)
        #expect(steps.dropFirst().allSatisfy { $0.rankCorrelation < 0.5 }, "\(steps.map(\.rankCorrelation))")
    }

    @Test func badLayersAndClassesAreRefused() throws {
        let device = try TestBackends.device()
        let flat = try #require(graph.nodes.last?.output)
        let noExtent = try #require(throws: VisualizationError.self) {
            try ClassActivationMapper(graph: graph, backend: device, layers: [flat], method: .gradCAM, inputShape: input.shape)
        }
        #expect(noExtent.description.contains("has no spatial extent"))
        let mapper = try ClassActivationMapper(graph: graph, backend: device, layers: [], method: .gradCAM, inputShape: input.shape)
        let badClass = try #require(throws: VisualizationError.self) { try mapper.explain(try device.upload(input), classes: [10, 10]) }
        #expect(badClass.description == "class 10 is outside the model's 10 outputs (0–9)")
    }
}
