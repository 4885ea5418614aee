import BackendParity
import Foundation
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The export path of Tools/export_pretrained.py (EfficientNet-Lite0 with real weights), through the tiny model its
/// `--tiny` option sends down the same code: the `convlens.*` metadata it writes, TF-style "same" padding merged into
/// the convolutions (asymmetric, no Pad left), and the forward pass against PyTorch's logits.
@Suite("Pretrained export")
struct PretrainedExportTests {
    private let fixture = ModelFixture(name: "pretrained_tiny")

    /// What export_pretrained.py wrote beside the model (fixture.json).
    private struct Written: Decodable {
        /// The `convlens.*` metadata, key by key, as written into model.onnx.
        let metadata: [String: String]
        /// The class names `convlens.labels` encodes as a JSON list.
        let labels: [String]
        /// Each Conv node's ONNX `pads`: top, left, bottom, right.
        let conv_pads: [String: [Int]]
        /// The ONNX op types in the file.
        let ops: [String]
    }

    private func written() throws -> Written {
        let data = try Data(contentsOf: fixture.directory.appendingPathComponent("fixture.json"))
        return try JSONDecoder().decode(Written.self, from: data)
    }

    private func importedGraph() throws -> Graph {
        try ONNXImporter.load(contentsOf: fixture.directory.appendingPathComponent("model.onnx").path)
    }

    @Test func metadataHasTheValuesTheScriptWrote() throws {
        let graph = try importedGraph()
        let expected = try written()
        #expect(Set(graph.metadata.keys.filter { $0.hasPrefix("convlens.") }) == Set(expected.metadata.keys))
        for (key, value) in expected.metadata.sorted(by: { $0.key < $1.key }) {
            #expect(graph.metadata[key] == value, "metadata \(key)")
        }

        let labelsJSON = try #require(graph.metadata["convlens.labels"])
        let labels = try JSONDecoder().decode([String].self, from: Data(labelsJSON.utf8))
        #expect(labels == expected.labels)
        #expect(labels.count == 5)
        #expect(labels.contains("tabby, tabby cat"), "a label with a comma survives as one label")

        let half: [Float?] = [0.5, 0.5, 0.5]
        #expect(floats(graph.metadata["convlens.mean"]) == half)
        #expect(floats(graph.metadata["convlens.std"]) == half)
        #expect(graph.metadata["convlens.size"] == "16")
        #expect(graph.metadata["convlens.channels"] == "3")
        let dimensions: [Int?] = [nil, 3, 16, 16]
        #expect(graph.input.dimensions == dimensions, "the batch is dynamic, the size fixed")
    }

    /// The model's `ZeroPad2d` + Conv pairs arrive as single Convs with the asymmetric padding TensorFlow's "SAME"
    /// asks for (a 3×3 stride-2 conv on 16 px pads 0 before and 1 after; a 5×5 stride-2 conv on 8 px, 1 and 2).
    @Test func samePaddingIsMergedIntoTheConvolutions() throws {
        let graph = try importedGraph()
        let expected = try written()
        #expect(Set(graph.nodes.map(\.opType)) == Set(expected.ops))
        #expect(!graph.nodes.contains { $0.opType == "Pad" })
        var convolutions = 0
        for node in graph.nodes {
            guard case .conv(let parameters) = node.operation else { continue }
            convolutions += 1
            let pads = try #require(expected.conv_pads[node.name], "\(node.name) is not in fixture.json")
            #expect(pads.count == 4)
            guard pads.count == 4 else { continue }
            #expect(parameters.padding == Padding2D(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3]),
                    "\(node.name)")
            #expect(parameters.padding.top != parameters.padding.bottom, "\(node.name) pads asymmetrically")
        }
        #expect(convolutions == expected.conv_pads.count)
    }

    @Test func referenceForwardMatchesPyTorch() throws {
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: try importedGraph(), backend: backend)
        let input = try fixture.tensor("input.npy")
        let logits = try backend.download(try executor.forward(input))
        let expected = try fixture.tensor("logits.npy")
        #expect(logits.shape == expected.shape)
        let labels = try written().labels
        #expect(logits.shape[1] == labels.count)
        expectClose(logits.values, expected.values, relativeL2: Tolerance.modelVsONNXRuntime, "pretrained_tiny logits")
    }

    /// Comma-separated numbers as ConvLens reads `convlens.mean` and `convlens.std` (nil where one does not parse).
    private func floats(_ text: String?) -> [Float?] {
        (text ?? "").split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
    }
}
