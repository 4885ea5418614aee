import BackendParity
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing
import Visualization

/// A transformer layer's tokens laid out on their grid, against pytorch-grad-cam with its ViT reshape_transform
/// (Tools/vit_cam_fixture.py).
@Suite("Transformer layouts")
struct TransformerCAMTests {
    static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/cam/vit_tiny")
    static let layer = "/encoder/layers/encoder_layer_1/ln_1/LayerNormalization"

    static func array(_ file: String) throws -> HostTensor {
        try NPYFile.read(folder.appendingPathComponent(file).path)
    }

    @Test func gradCAMOnViTTokensMatchesPytorchGradCam() throws {
        let graph = try ONNXImporter.load(contentsOf: Self.folder.appendingPathComponent("model.onnx").path)
        let input = try Self.array("input.npy"), expected = try Self.array("cam_gradcam.npy")
        try check(graph, input, expected, on: ReferenceBackend())
        if TestBackends.hasOpenCL { try check(graph, input, expected, on: try TestBackends.device()) }
    }

    private func check<B: Backend>(_ graph: Graph, _ input: HostTensor, _ expected: HostTensor, on backend: B) throws {
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: [Self.layer], method: .gradCAM,
                                               inputShape: input.shape)
        #expect(mapper.layouts.values.first == .classToken(height: 4, width: 4))
        let maps = try backend.download(try mapper.explain(try backend.upload(input), classes: [2, 3]).maps)
        #expect(maps.values.count == expected.values.count)
        let worst = zip(maps.values, expected.values).map { abs($0 - $1) }.max() ?? .infinity
        #expect(Double(worst) <= Tolerance.camVsPytorchGradCam, "\(backend.name): max abs \(worst)")
    }

    /// Detection from the shape, the explicit choices, and one-line refusals naming the layer.
    @Test func layoutsAreDetectedFromTheShapeOrChosen() throws {
        #expect(try ActivationLayout.resolve(.auto, shape: [2, 197, 768], layer: "l") == .classToken(height: 14, width: 14))
        #expect(try ActivationLayout.resolve(.auto, shape: [2, 49, 96], layer: "l") == .tokens(height: 7, width: 7))
        #expect(try ActivationLayout.resolve(.auto, shape: [2, 64, 7, 7], layer: "l") == .nchw)
        #expect(try ActivationLayout.resolve(.nhwc, shape: [2, 7, 7, 96], layer: "l") == .nhwc)
        #expect(try ActivationLayout.resolve(.tokens, grid: (2, 6), shape: [1, 12, 8], layer: "l") == .tokens(height: 2, width: 6))
        let error = try #require(throws: VisualizationError.self) {
            try ActivationLayout.resolve(.auto, shape: [2, 11, 8], layer: "blocks.3")
        }
        #expect(error.description == "layer 'blocks.3' has shape 2×11×8: its 11 tokens form no square grid, with or "
            + "without a class token; give --grid HxW")

        // Swin's channels-last grid and ViT's tokens become N×C×h×w on the device.
        let backend = ReferenceBackend()
        let tokens = HostTensor(shape: [1, 5, 2], values: (0..<10).map(Float.init))
        let spatial = try ActivationLayout.classToken(height: 2, width: 2).spatial(try backend.upload(tokens), on: backend)
        #expect(try backend.download(spatial) == HostTensor(shape: [1, 2, 2, 2], values: [2, 4, 6, 8, 3, 5, 7, 9]))
        let nhwc = HostTensor(shape: [1, 1, 2, 3], values: [0, 1, 2, 3, 4, 5])
        #expect(try backend.download(try ActivationLayout.nhwc.spatial(try backend.upload(nhwc), on: backend))
            == HostTensor(shape: [1, 3, 1, 2], values: [0, 3, 1, 4, 2, 5]))
    }
}
