import BundledModel
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing
@testable import Visualization

/// Zeiler & Fergus projections on the bundled model over its ten digits: the streamed top-k against an exhaustive
/// ranking, the projections against the unit attributions that the feature-saliency fixtures check against
/// PyTorch, and the receptive-field crops against hand-worked geometry.
@Suite("Feature projections", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct FeatureProjectionTests {
    let graph: Graph
    let digits: HostTensor
    let layer = "/features/features.12/Relu_output_0"

    init() throws {
        graph = try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name)
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/BundledModel/digits").standardized.path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
        digits = try ImagePreprocessing.mnist.tensor(from: names.map { try RasterImage(contentsOf: "\(folder)/\($0)") })
    }

    private func image(_ index: Int) -> HostTensor {
        let size = digits.shape.count / digits.shape[0]
        return HostTensor(shape: [1, 1, 28, 28], values: Array(digits.values[(index * size)..<((index + 1) * size)]))
    }

    /// Batches of 3 streamed through the running top-k rank exactly as one exhaustive sort of every (image,
    /// position) of the reference activation, with at most `perImage` positions from one image.
    @Test(arguments: [1, 2])
    func theRunningTopKMatchesAnExhaustiveRanking(perImage: Int) throws {
        let device = try TestBackends.device()
        let channels = [0, 5, 31]
        let projector = try FeatureProjector(graph: graph, backend: device, layer: layer, channels: channels, top: 7,
                                             perImage: perImage)
        for start in stride(from: 0, to: 10, by: 3) {
            let count = min(3, 10 - start)
            try projector.observe(HostTensor(shape: [count, 1, 28, 28],
                                             values: (start..<(start + count)).flatMap { image($0).values }))
        }
        #expect(projector.imagesSeen == 10)

        let reference = ReferenceBackend()
        let executor = try GraphExecutor(graph: graph, backend: reference)
        let activation = try reference.download(try executor.forward(try reference.upload(digits), through: layer))
        let (planes, plane, width) = (activation.shape[1], activation.shape[2] * activation.shape[3], activation.shape[3])
        for (slot, channel) in channels.enumerated() {
            var all: [TopActivation] = []
            for n in 0..<10 {
                let base = (n * planes + channel) * plane
                all += (0..<plane).map { TopActivation(value: activation.values[base + $0], image: n, y: $0 / width, x: $0 % width) }
                    .sorted(by: TopActivation.ranksBefore).prefix(perImage)
            }
            let expected = Array(all.sorted(by: TopActivation.ranksBefore).prefix(7))
            let found = projector.best[slot]
            #expect(found.map(\.image) == expected.map(\.image), "channel \(channel) images")
            #expect(found.map { [$0.y, $0.x] } == expected.map { [$0.y, $0.x] }, "channel \(channel) positions")
            for (a, b) in zip(found, expected) { #expect(abs(a.value - b.value) <= 1e-4 * max(1, abs(b.value))) }
            for n in 0..<10 { #expect(found.filter { $0.image == n }.count <= perImage) }
        }
    }

    /// A projection is the deconvnet (or guided) gradient of one activation: the same as `saliency`'s unit
    /// attribution at that channel and position, which Tools/feature_saliency_fixtures.py checks against autograd.
    @Test(arguments: ProjectionRule.allCases)
    func aProjectionIsTheUnitsModifiedGradient(rule: ProjectionRule) throws {
        let device = try TestBackends.device()
        let projector = try FeatureProjector(graph: graph, backend: device, layer: layer, channels: [3, 9], top: 2, rule: rule)
        try projector.observe(digits)
        let units = zip([3, 9], projector.best).flatMap { channel, list in list.map { (channel: channel, activation: $0) } }
        let images = Dictionary(uniqueKeysWithValues: units.map { ($0.activation.image, image($0.activation.image)) })
        let projections = try projector.project(units, images: images, batch: 3)
        #expect(projections.count == 4)
        for (unit, projection) in zip(units, projections) {
            var settings = AttributionSettings(method: rule == .deconvnet ? .deconvnet : .guidedBackprop)
            settings.unit = FeatureUnit(layer: layer, channel: unit.channel, position: (unit.activation.y, unit.activation.x))
            let expected = try GradientAttributor(graph: graph, backend: device, settings: settings)
                .attribute(image(unit.activation.image), target: nil).attribution
            #expect(projection.values.contains { $0 != 0 }, "a projection reaches the input")
            expectClose(projection.values.map(Double.init), expected.values.map(Double.init), relativeL2: 1e-6, "\(rule) projection")
        }
    }

    /// The layer's window behind position (y, x), from the model's own convolutions and pools (3×3 pad 1, 3×3 pad 1,
    /// 2×2 pool, 3×3 pad 1, 3×3 pad 1): 14 px, stepping 2 px, position (0, 0)'s window starting at (−6, −6).
    /// Boxes are moved inside the 28×28 image where they poke out.
    @Test func cropsFollowTheReceptiveField() throws {
        let projector = try FeatureProjector(graph: graph, backend: ReferenceBackend(), layer: layer, channels: [0], top: 1)
        let field = try projector.receptiveField(graph: graph, inputShape: digits.shape)
        #expect(field == ReceptiveField(size: Size2D(14, 14), stride: Size2D(2, 2), top: -6, left: -6))
        #expect(PixelBox(field: field, y: 5, x: 3, imageHeight: 28, imageWidth: 28) == PixelBox(top: 4, left: 0, height: 14, width: 14))
        #expect(PixelBox(field: field, y: 0, x: 13, imageHeight: 28, imageWidth: 28) == PixelBox(top: 0, left: 14, height: 14, width: 14))
        #expect(PixelBox(field: field, y: 7, x: 6, imageHeight: 10, imageWidth: 28) == PixelBox(top: 0, left: 6, height: 10, width: 14))
    }

    @Test func badRequestsAreRefused() throws {
        let device = try TestBackends.device()
        #expect(throws: VisualizationError.self) {
            try FeatureProjector(graph: graph, backend: device, layer: "/Flatten_output_0", channels: [0], top: 1).observe(digits)
        }
        #expect(throws: VisualizationError.self) {
            try FeatureProjector(graph: graph, backend: device, layer: layer, channels: [32], top: 1).observe(digits)
        }
        let projector = try FeatureProjector(graph: graph, backend: device, layer: layer, channels: [0], top: 11)
        try projector.observe(digits)
        #expect(throws: VisualizationError.self) { try projector.requireEnoughCandidates() }
    }
}
