import BundledModel
import Foundation
@testable import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// What the importer accepts, lowers and folds, and how it refuses what it cannot run.
@Suite("ONNX import")
struct ImporterTests {
    @Test func batchNormalizationFoldsIntoTheConvBeforeIt() throws {
        let bundled = try ONNXImporter.load(data: BundledModel.onnxData, source: "bundled")
        #expect(!bundled.nodes.contains { $0.opType == "BatchNormalization" }, "every BN follows a Conv and folds")
        #expect(!bundled.foldedValues.isEmpty)

        // residual_bn keeps exactly one: the normalization after the residual ReLU has no Conv to fold into.
        let residual = try ModelFixture(name: "residual_bn").graph()
        let unfolded = residual.nodes.filter { if case .channelAffine = $0.operation { true } else { false } }
        #expect(unfolded.count == 1)
        #expect(unfolded.first?.opType == "BatchNormalization")
    }

    @Test func foldedValuesPointAtTheirReplacement() throws {
        let graph = try ONNXImporter.load(data: BundledModel.onnxData, source: "bundled")
        let (removed, replacement) = try #require(graph.foldedValues.first)
        let error = try #require(throws: ModelError.self) { try graph.resolve(removed) }
        #expect(error.description == "layer '\(removed)' not found; nearest: '\(replacement)'")
    }

    @Test func unsupportedOpsNameTheOpTheNodeAndTheSupportedList() throws {
        let data = try TinyModel(nodes: [TinyModel.node("Foo", "MyFoo", inputs: ["input"], output: "y")]).data()
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(data: data, source: "tiny.onnx") }
        #expect(error.description
            == "node 'MyFoo': op Foo (opset 17) is not supported; supported ops: "
                + ONNXImporter.supportedOps.joined(separator: ", "))
        #expect(ONNXImporter.supportedOps == ONNXImporter.supportedOps.sorted() && ONNXImporter.supportedOps.contains("Conv"))
    }

    @Test func opsetsOutsideTheSupportedRangeAreRefused() throws {
        let data = try TinyModel(opset: 6, nodes: [TinyModel.node("Relu", "r", inputs: ["input"], output: "y")]).data()
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(data: data, source: "old.onnx") }
        #expect(error.description == "old.onnx: opset ai.onnx 6 is not supported (ConvLens reads ai.onnx opsets 7–28)")
        let seven = try TinyModel(opset: 7, nodes: [TinyModel.node("Relu", "r", inputs: ["input"], output: "y")]).data()
        #expect(try ONNXImporter.load(data: seven, source: "seven.onnx").opsetVersion == 7)
        let newest = try TinyModel(opset: 28, nodes: [TinyModel.node("Relu", "r", inputs: ["input"], output: "y")]).data()
        #expect(try ONNXImporter.load(data: newest, source: "newest.onnx").opsetVersion == 28)
        let future = try TinyModel(opset: 29, nodes: [TinyModel.node("Relu", "r", inputs: ["input"], output: "y")]).data()
        #expect(throws: ModelError.self) { try ONNXImporter.load(data: future, source: "future.onnx") }
    }

    /// ReduceMean over the spatial axes is global average pooling (plus a flatten without keepdims); over other axes
    /// a reduction (scattered axes gathered by a permutation first).
    @Test(arguments: [([2, 3], 1, [1, 3, 1, 1]), ([-1, -2], 0, [1, 3])] as [([Int64], Int64, TensorShape)])
    func spatialMeansLowerToGlobalPooling(axes: [Int64], keepdims: Int64, expected: TensorShape) throws {
        var node = TinyModel.node("ReduceMean", "mean", inputs: ["input"], output: "y")
        for (name, value) in [("keepdims", [keepdims]), ("axes", axes)] {
            var attribute = Onnx_AttributeProto()
            attribute.name = name
            if name == "axes" { (attribute.type, attribute.ints) = (.ints, value) } else { (attribute.type, attribute.i) = (.int, value[0]) }
            node.attribute.append(attribute)
        }
        let graph = try ONNXImporter.load(data: try TinyModel(nodes: [node]).data(), source: "mean.onnx")
        #expect(graph.nodes.contains { if case .globalAveragePool = $0.operation { true } else { false } })
        #expect(try graph.inferShapes(input: [1, 3, 8, 8])["y"] == expected)

        var channels = TinyModel.node("ReduceMean", "channels", inputs: ["input"], output: "y")
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.ints) = ("axes", .ints, [1])
        channels.attribute = [attribute]
        let overChannels = try ONNXImporter.load(data: try TinyModel(nodes: [channels]).data(), source: "mean.onnx")
        #expect(overChannels.nodes.count == 1)
        if case .reduce(.mean, let axes, true) = overChannels.nodes[0].operation { #expect(axes == 1...1) } else {
            Issue.record("expected a mean over axis 1, got \(overChannels.nodes[0].operation)")
        }
        attribute.ints = [1, 3]
        channels.attribute = [attribute]
        let scattered = try ONNXImporter.load(data: try TinyModel(nodes: [channels]).data(), source: "mean.onnx")
        #expect(scattered.nodes.map(\.opType) == ["ReduceMean", "ReduceMean", "ReduceMean"])
        #expect(try scattered.inferShapes(input: [1, 3, 8, 8])["y"] == [1, 1, 8, 1])
    }

    /// x·σ(x) becomes one SiLU node; a Sigmoid read by anything else stays a Sigmoid.
    @Test func sigmoidTimesItsInputFusesIntoSiLU() throws {
        let fused = try ONNXImporter.load(data: try TinyModel(nodes: [
            TinyModel.node("Sigmoid", "gate", inputs: ["input"], output: "s"),
            TinyModel.node("Mul", "swish", inputs: ["s", "input"], output: "y"),
        ]).data(), source: "silu.onnx")
        #expect(fused.nodes.map(\.opType) == ["Sigmoid·Mul"])
        if case .activation(.silu) = fused.nodes[0].operation {} else { Issue.record("expected SiLU, got \(fused.nodes[0])") }
        let kept = try ONNXImporter.load(data: try TinyModel(nodes: [
            TinyModel.node("Sigmoid", "gate", inputs: ["input"], output: "s"),
            TinyModel.node("Relu", "r", inputs: ["input"], output: "r"),
            TinyModel.node("Mul", "scale", inputs: ["s", "r"], output: "y"),
        ]).data(), source: "gate.onnx")
        #expect(kept.nodes.map(\.opType) == ["Sigmoid", "Relu", "Mul"])
    }

    /// x · (1 + erf(x / √2)) · 0.5, as the TorchScript exporter writes GELU, becomes one exact GELU node under the
    /// last Mul's name and output, with the Constant nodes placed after the Div as that exporter places them; the
    /// chain stays as it is when one of its inner values is read elsewhere.
    @Test func theErfChainOfGELUFusesIntoOneNode() throws {
        func chain(extraOutput: String? = nil) -> TinyModel {
            var model = TinyModel(nodes: [
                TinyModel.node("Div", "div", inputs: ["input", "root2"], output: "d"),
                TinyModel.node("Erf", "erf", inputs: ["d"], output: "e"),
                TinyModel.constant("one", 1),
                TinyModel.node("Add", "add", inputs: ["e", "one"], output: "p"),
                TinyModel.node("Mul", "mul", inputs: ["input", "p"], output: "q"),
                TinyModel.constant("half", 0.5),
                TinyModel.node("Mul", "mul_1", inputs: ["q", "half"], output: "y"),
            ], initializers: [TinyModel.floats("root2", [Float(2.0.squareRoot())])])
            if let extraOutput { model.outputNames = ["y", extraOutput] }
            return model
        }
        let fused = try ONNXImporter.load(data: try chain().data(), source: "gelu.onnx")
        #expect(fused.nodes.map(\.name) == ["mul_1"] && fused.nodes.map(\.output) == ["y"])
        guard case .activation(.gelu(tanh: false)) = fused.nodes[0].operation else {
            Issue.record("expected an exact GELU, got \(fused.nodes[0])")
            return
        }
        let backend = ReferenceBackend()
        let input = HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0 - 96) / 24 })
        let output = try backend.download(try GraphExecutor(graph: fused, backend: backend).forward(input))
        expectClose(output.values.map(Double.init),
                    input.values.map { Double($0) * (1 + erf(Double($0) / 2.0.squareRoot())) / 2 },
                    relativeL2: 1e-7, "fused GELU against its formula")

        let kept = try ONNXImporter.load(data: try chain(extraOutput: "e").data(), source: "gelu-erf-read.onnx")
        #expect(kept.nodes.map(\.opType) == ["Div", "Erf", "Add", "Mul", "Mul"])
    }

    /// An integer constant read as image data is refused with its type.
    @Test func integerConstantsAsImageDataAreRefused() throws {
        let model = TinyModel(nodes: [TinyModel.node("Add", "shift", inputs: ["input", "k"], output: "y")],
                              initializers: [TinyModel.integers("k", [1])])
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(data: try model.data(), source: "m") }
        #expect(error.description == "node 'shift' (Add): its input 'k' is a constant of type int64; ConvLens computes in float")
    }

    @Test func shapesThatDoNotFitNameTheNode() throws {
        var weight = Onnx_TensorProto()
        weight.name = "w"
        weight.dims = [4, 2, 3, 3]  // expects 2 input channels; the input has 3
        weight.dataType = 1
        weight.floatData = [Float](repeating: 0, count: 72)
        let model = TinyModel(nodes: [TinyModel.node("Conv", "conv1", inputs: ["input", "w"], output: "y")], initializers: [weight])
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(data: try model.data(), source: "x") }
        #expect(error.description.hasPrefix("node 'conv1' (Conv): weight 4×2×3×3 expects 2 input channels"))
    }

    /// torch.onnx.export shares equal initializers (e.g. zero biases) through Identity nodes.
    @Test func identityOfAnInitializerStaysAConstant() throws {
        var weight = Onnx_TensorProto()
        weight.name = "w"
        weight.dims = [2, 3, 1, 1]
        weight.dataType = 1
        weight.floatData = [1, 0, 0, 0, 1, 0]
        var bias = Onnx_TensorProto()
        bias.name = "b"
        bias.dims = [2]
        bias.dataType = 1
        bias.floatData = [0, 0]
        let model = TinyModel(nodes: [
            TinyModel.node("Identity", "share", inputs: ["b"], output: "b2"),
            TinyModel.node("Conv", "conv", inputs: ["input", "w", "b2"], output: "y"),
        ], initializers: [weight, bias])
        let graph = try ONNXImporter.load(data: try model.data(), source: "shared.onnx")
        #expect(graph.nodes.map(\.opType) == ["Conv"])
        #expect(graph.constants["b2"]?.values == [0, 0])
    }

    @Test func nonONNXFilesAreRefused() throws {
        let error = try #require(throws: ModelError.self) {
            try ONNXImporter.load(data: Data("this is not a model, just text\n".utf8), source: "notes.txt")
        }
        #expect(error.description.hasPrefix("notes.txt: not a readable ONNX model"))
        #expect(throws: ModelError.self) { try ONNXImporter.load(contentsOf: "/nonexistent/model.onnx") }
    }

    /// Every prefix of the bundled model is refused cleanly (no crash, a ModelError).
    /// The bundled model, and one whose shape computations are folded at load.
    static let corruptible: [String] = ["mnist_cnn", "same_padding"]

    static func modelData(_ name: String) throws -> Data {
        name == "mnist_cnn" ? BundledModel.onnxData
            : try Data(contentsOf: URL(fileURLWithPath: ModelFixture(name: name).modelPath))
    }

    @Test(arguments: corruptible) func truncatedCopiesAreRefused(_ model: String) throws {
        let data = try Self.modelData(model)
        let cuts = stride(from: 0, to: data.count - 1, by: max(1, data.count / 397)).map { $0 } + [data.count - 1]
        for cut in cuts {
            #expect(throws: ModelError.self, "cut at \(cut) of \(data.count)") {
                try ONNXImporter.load(data: data.prefix(cut), source: "truncated")
            }
        }
    }

    /// A flipped bit either makes the file unreadable, refused with a ModelError, or lands where the file stays a
    /// valid model (a weight, a name), which then loads with every shape checked; nothing crashes. Flips are
    /// aimed at the structure: the first 2 KB (header, first nodes) and the last 2 KB (graph outputs, opset,
    /// metadata), where the weights are not.
    @Test(arguments: corruptible) func bitFlippedCopiesAreRefusedOrStillLoad(_ model: String) throws {
        let original = try Self.modelData(model)
        var random = SeededGenerator(seed: 2024)
        var refused = 0
        let regions = [0..<2048, (original.count - 2048)..<original.count]
        for trial in 0..<400 {
            var data = original
            let region = regions[trial % 2]
            let position = region.lowerBound + Int(random.next() % UInt64(region.count))
            data[position] ^= UInt8(1 << (random.next() % 8))
            do {
                let graph = try ONNXImporter.load(data: data, source: "flipped")
                #expect(!graph.nodes.isEmpty)
            } catch is ModelError {
                refused += 1
            }
        }
        #expect(refused > 100, "most flips in the structure must be refused, \(refused) of 400 were")
    }
}

/// A one-input ONNX model built in code, for error-path tests.
struct TinyModel {
    var opset = 17
    var nodes: [Onnx_NodeProto]
    var initializers: [Onnx_TensorProto] = []
    /// Leaves the input's height and width symbolic (`dim_param` "h", "w") instead of 8 × 8.
    var symbolicSize = false
    /// The input's declared dimensions.
    var inputDimensions: [Int64] = [1, 3, 8, 8]
    /// Graph outputs; the last node's first output when nil.
    var outputNames: [String]?

    static func node(_ op: String, _ name: String, inputs: [String], output: String,
                     ints: [String: [Int64]] = [:], int: [String: Int64] = [:]) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = inputs
        node.output = [output]
        for (name, values) in ints.sorted(by: { $0.key < $1.key }) {
            var attribute = Onnx_AttributeProto()
            (attribute.name, attribute.type, attribute.ints) = (name, .ints, values)
            node.attribute.append(attribute)
        }
        for (name, value) in int.sorted(by: { $0.key < $1.key }) {
            var attribute = Onnx_AttributeProto()
            (attribute.name, attribute.type, attribute.i) = (name, .int, value)
            node.attribute.append(attribute)
        }
        return node
    }

    /// A float initializer of one dimension.
    static func floats(_ name: String, _ values: [Float]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = [Int64(values.count)]
        tensor.dataType = 1
        tensor.floatData = values
        return tensor
    }

    /// A Constant node holding one float (a scalar), as exporters write them.
    static func constant(_ output: String, _ value: Float) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = "Constant"
        node.name = "\(output)_constant"
        node.output = [output]
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type) = ("value", .tensor)
        attribute.t.dataType = 1
        attribute.t.floatData = [value]
        node.attribute = [attribute]
        return node
    }

    /// An int64 initializer.
    static func integers(_ name: String, _ values: [Int64], shape: [Int64]? = nil) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape ?? [Int64(values.count)]
        tensor.dataType = 7
        tensor.int64Data = values
        return tensor
    }

    func data() throws -> Data {
        var input = Onnx_ValueInfoProto()
        input.name = "input"
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = 1
        tensorType.shape.dim = inputDimensions.enumerated().map { axis, size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if symbolicSize && axis >= 2 { dimension.dimParam = axis == 2 ? "h" : "w" } else { dimension.dimValue = size }
            return dimension
        }
        input.type.tensorType = tensorType
        let outputs = (outputNames ?? [nodes.last?.output.first ?? "y"]).map { name in
            var output = Onnx_ValueInfoProto()
            output.name = name
            return output
        }
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.version = Int64(opset)
        model.opsetImport = [opsetImport]
        model.graph.node = nodes
        model.graph.input = [input]
        model.graph.output = outputs
        model.graph.initializer = initializers
        return try model.serializedData()
    }
}
