import Foundation
@testable import ModelGraph
import ReferenceBackend
import TensorOps
import Testing

/// Shape computations folded at load for the input shape in use, planned again when it changes, and refused where
/// they read image data.
@Suite("Shape folding")
struct ShapeFoldingTests {
    /// PyTorch's legacy exporter writes TF "same" padding and `view(x.size(0), -1)` as Shape/Gather/Div/Cast/…
    /// subgraphs: none of them is left as a node, and the Pads read the padding computed for 16×15.
    @Test func exporterShapeSubgraphsFoldAway() throws {
        let graph = try ModelFixture(name: "same_padding").graph()
        #expect(graph.plannedInput == [1, 3, 16, 15])
        #expect(graph.foldedNodeCount > 50)
        #expect(graph.nodes.map(\.opType) == ["Pad", "Conv", "Clip", "Pad", "Conv", "Clip", "Reshape", "Gemm"])
        #expect(paddings(graph) == [Padding2D(top: 0, left: 1, bottom: 1, right: 1), Padding2D(top: 1, left: 1, bottom: 2, right: 2)])
        #expect(reshapeTargets(graph) == [[1, -1]])
    }

    /// Another batch gives another Reshape target; another image size gives other padding, and a size the model
    /// cannot take is refused naming the node (the tracer froze `ceil(ih / 2)` at 8, so 20 rows ask for negative
    /// padding).
    @Test func anotherInputShapeIsPlannedAgain() throws {
        let graph = try ModelFixture(name: "same_padding").graph()
        let batch = try graph.planned(for: [3, 3, 16, 15])
        #expect(batch.plannedInput == [3, 3, 16, 15])
        #expect(reshapeTargets(batch) == [[3, -1]])
        #expect(try graph.inferShapes(input: [3, 3, 16, 15])["logits"] == [3, 5])

        let taller = try graph.planned(for: [1, 3, 15, 15])
        #expect(paddings(taller).first == Padding2D(1))
        let error = try #require(throws: ModelError.self) { try graph.planned(for: [1, 3, 20, 20]) }
        #expect(error.description == "node '/conv1/Pad' (Pad): padding -1,-1,-2,-2 must be from 0 to 16777216")
    }

    @Test func shapeComputationsOnImageDataAreRefusedNamingTheNode() throws {
        let model = TinyModel(nodes: [
            TinyModel.node("Relu", "relu", inputs: ["input"], output: "r"),
            TinyModel.node("Cast", "cast", inputs: ["r"], output: "c", int: ["to": 7]),
            TinyModel.node("Reshape", "reshape", inputs: ["input", "c"], output: "y"),
        ])
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(data: try model.data(), source: "m") }
        #expect(error.description == "node 'cast' (Cast): its input 'r' is computed from the image by node 'relu' "
            + "(Relu), not only from shapes; ConvLens folds shape computations at load and cannot run Cast on image data")

        let direct = TinyModel(nodes: [
            TinyModel.node("Relu", "relu", inputs: ["input"], output: "r"),
            TinyModel.node("Reshape", "reshape", inputs: ["input", "r"], output: "y"),
        ])
        let reshape = try #require(throws: ModelError.self) { try ONNXImporter.load(data: try direct.data(), source: "m") }
        #expect(reshape.description.hasPrefix("node 'reshape' (Reshape): its target shape 'r' is computed from the image"))
    }

    @Test func typeMismatchesAreOneLineErrors() throws {
        var half = Onnx_TensorProto()
        (half.name, half.dataType, half.floatData) = ("half", 1, [0.5])
        let model = TinyModel(nodes: [
            TinyModel.node("Shape", "shape", inputs: ["input"], output: "s"),
            TinyModel.node("Mul", "scale", inputs: ["s", "half"], output: "t"),
            TinyModel.node("Reshape", "reshape", inputs: ["input", "t"], output: "y"),
        ], initializers: [half])
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(data: try model.data(), source: "m") }
        #expect(error.description == "node 'scale' (Mul): type mismatch: int64 and float operands")
    }

    /// Each folded op against values worked out by hand from the ONNX operator definitions.
    @Test func foldedOpsFollowONNXSemantics() throws {
        let shape = TinyModel.node("Shape", "shape", inputs: ["input"], output: "s")  // [1, 3, 8, 8]
        let cases: [(Onnx_NodeProto, [Onnx_TensorProto], FoldedTensor)] = [
            (TinyModel.node("Gather", "g", inputs: ["s", "i"], output: "y"), [TinyModel.integers("i", [-1, 1])],
             FoldedTensor(integers: [8, 3])),
            (TinyModel.node("Gather", "g", inputs: ["s", "i"], output: "y"), [TinyModel.integers("i", [0], shape: [])],
             FoldedTensor(integers: [1], shape: [])),
            // Reversed with step −1 from the end, as PyTorch's pads conversion writes it.
            (TinyModel.node("Slice", "sl", inputs: ["s", "b", "e", "a", "st"], output: "y"),
             [TinyModel.integers("b", [-1]), TinyModel.integers("e", [-9_223_372_036_854_775_807]),
              TinyModel.integers("a", [0]), TinyModel.integers("st", [-1])],
             FoldedTensor(integers: [8, 8, 3, 1])),
            (TinyModel.node("Slice", "sl", inputs: ["s", "b", "e"], output: "y"),
             [TinyModel.integers("b", [2]), TinyModel.integers("e", [Int64.max])], FoldedTensor(integers: [8, 8])),
            (TinyModel.node("Range", "r", inputs: ["lo", "hi", "d"], output: "y"),
             [TinyModel.integers("lo", [1], shape: []), TinyModel.integers("hi", [8], shape: []),
              TinyModel.integers("d", [3], shape: [])], FoldedTensor(integers: [1, 4, 7])),
            (TinyModel.node("Expand", "x", inputs: ["v", "to"], output: "y"),
             [TinyModel.integers("v", [5, 6], shape: [2, 1]), TinyModel.integers("to", [2, 2])],
             FoldedTensor(integers: [5, 5, 6, 6], shape: [2, 2])),
            (TinyModel.node("Mod", "m", inputs: ["p", "q"], output: "y"),
             [TinyModel.integers("p", [-7, 7]), TinyModel.integers("q", [3])], FoldedTensor(integers: [2, 1])),
            (TinyModel.node("Div", "d", inputs: ["p", "q"], output: "y"),
             [TinyModel.integers("p", [-7, 7]), TinyModel.integers("q", [2])], FoldedTensor(integers: [-3, 3])),
            (TinyModel.node("Transpose", "t", inputs: ["v"], output: "y", ints: ["perm": [1, 0]]),
             [TinyModel.integers("v", [1, 2, 3, 4, 5, 6], shape: [3, 2])],
             FoldedTensor(integers: [1, 3, 5, 2, 4, 6], shape: [2, 3])),
            (TinyModel.node("Unsqueeze", "u", inputs: ["v", "a"], output: "y"),
             [TinyModel.integers("v", [4], shape: []), TinyModel.integers("a", [0])], FoldedTensor(integers: [4])),
            (TinyModel.node("Concat", "c", inputs: ["s", "v"], output: "y", int: ["axis": 0]),
             [TinyModel.integers("v", [-1])], FoldedTensor(integers: [1, 3, 8, 8, -1])),
            // timm's TF "same" padding clamps at 0 with Clip; CoAtNet's bias table is read by GatherND; Swin's
            // mask is written by ScatterND.
            (TinyModel.node("Clip", "cl", inputs: ["s", "lo", "hi"], output: "y"),
             [TinyModel.integers("lo", [2], shape: []), TinyModel.integers("hi", [6], shape: [])],
             FoldedTensor(integers: [2, 3, 6, 6])),
            (TinyModel.node("GatherND", "gn", inputs: ["s", "i"], output: "y"),
             [TinyModel.integers("i", [2, -4], shape: [2, 1])], FoldedTensor(integers: [8, 1])),
            (TinyModel.node("ScatterND", "sn", inputs: ["s", "i", "u"], output: "y"),
             [TinyModel.integers("i", [1], shape: [1, 1]), TinyModel.integers("u", [5])], FoldedTensor(integers: [1, 5, 8, 8])),
        ]
        for (node, initializers, expected) in cases {
            let model = TinyModel(nodes: [shape, node], initializers: initializers)
            let builder = try Self.build(model)
            #expect(builder.folded["y"] == expected, "\(node.opType) \(node.input)")
        }
        // Equal and Where pick per element: where s == 8, −1, else s.
        let eight = TinyModel.integers("eight", [8], shape: [])
        let minusOne = TinyModel.integers("m1", [-1], shape: [])
        let model = TinyModel(nodes: [
            shape, TinyModel.node("Equal", "eq", inputs: ["s", "eight"], output: "e"),
            TinyModel.node("Where", "w", inputs: ["e", "m1", "s"], output: "y"),
        ], initializers: [eight, minusOne])
        #expect(try Self.build(model).folded["y"] == FoldedTensor(integers: [1, 3, -1, -1]))
    }

    /// An Einsum that is a batched product (MaxViT's attention) becomes permutes around a matmul: x·xᵀ per plane.
    @Test func einsumOfABatchedProductLowersToMatmul() throws {
        var einsum = TinyModel.node("Einsum", "gram", inputs: ["input", "input"], output: "y")
        var attribute = Onnx_AttributeProto()
        (attribute.name, attribute.type, attribute.s) = ("equation", .string, Data("nchw, nciw -> nchi".utf8))
        einsum.attribute = [attribute]
        let graph = try ONNXImporter.load(data: try TinyModel(nodes: [einsum]).data(), source: "einsum.onnx")
        #expect(graph.nodes.map(\.opType) == ["Einsum", "Einsum"])
        let backend = ReferenceBackend()
        let x = HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0 % 7) - 3 })
        let y = try backend.download(try GraphExecutor(graph: graph, backend: backend).forward(x))
        let (c, h, i) = (2, 3, 5)
        let expected = (0..<8).reduce(Float(0)) { $0 + x.values[(c * 8 + h) * 8 + $1] * x.values[(c * 8 + i) * 8 + $1] }
        #expect(y.shape == [1, 3, 8, 8] && y.values[(c * 8 + h) * 8 + i] == expected)

        attribute.s = Data("nchw,nchw->nc".utf8)
        einsum.attribute = [attribute]
        let error = try #require(throws: ModelError.self) {
            try ONNXImporter.load(data: try TinyModel(nodes: [einsum]).data(), source: "einsum.onnx")
        }
        #expect(error.description == "node 'gram' (Einsum): equation 'nchw,nchw->nc' is not a batched matrix product of "
            + "two operands (only those are supported)")
    }

    /// A Gather of any constant indices on image data (a shuffle, a reversal, repeats) becomes strided slices of its
    /// evenly spaced runs, concatenated; the gradient adds up where an index repeats.
    @Test func gatherOfUnevenIndicesIsRunsOfSlices() throws {
        let indices: [Int64] = [7, 0, 1, 2, 5, 5, 3]
        let model = TinyModel(nodes: [TinyModel.node("Gather", "pick", inputs: ["input", "i"], output: "y", int: ["axis": 3])],
                              initializers: [TinyModel.integers("i", indices)])
        let graph = try ONNXImporter.load(data: try model.data(), source: "gather.onnx")
        #expect(graph.nodes.map(\.name) == ["pick/run0", "pick/run1", "pick/run2", "pick/run3", "pick"])
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: graph, backend: backend)
        let x = HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0) })
        let y = try backend.download(try executor.forward(x))
        #expect(y.shape == [1, 3, 8, 7])
        #expect(y.values == (0..<(3 * 8)).flatMap { row in indices.map { Float(row * 8 + Int($0)) } })
        let seed = try backend.upload(HostTensor(shape: y.shape, values: [Float](repeating: 1, count: y.values.count)))
        let gradient = try backend.download(try #require(try executor.backward(from: "y", seed: seed, to: ["input"])["input"]))
        let uses = (0..<8).map { w in Float(indices.filter { $0 == w }.count) }
        #expect(gradient.values == (0..<(3 * 8)).flatMap { _ in uses })
    }

    /// Expand and Tile on image data repeat it (as a broadcast add of zeros, as concatenated copies); every copy
    /// sends its gradient back to the element it repeats.
    @Test func expandAndTileRepeatImageData() throws {
        let backend = ReferenceBackend()
        let x = HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0) })
        for (op, operand, shape, copies) in [("Expand", [Int64(2), 1, 8, 8], [2, 3, 8, 8], 2),
                                             ("Tile", [1, 2, 1, 3], [1, 6, 8, 24], 6)] {
            let model = TinyModel(nodes: [TinyModel.node(op, "repeat", inputs: ["input", "n"], output: "y")],
                                  initializers: [TinyModel.integers("n", operand)])
            let executor = try GraphExecutor(graph: try ONNXImporter.load(data: try model.data(), source: "r.onnx"),
                                             backend: backend)
            let y = try backend.download(try executor.forward(x))
            #expect(y.shape == TensorShape(shape), "\(op)")
            // Every output element is the input element at its coordinates modulo the input's extents.
            let expected = (0..<y.values.count).map { flat -> Float in
                var (rest, source, stride) = (flat, 0, 1)
                for axis in (0..<4).reversed() {
                    source += (rest % shape[axis]) % x.shape[axis] * stride
                    (rest, stride) = (rest / shape[axis], stride * x.shape[axis])
                }
                return x.values[source]
            }
            #expect(y.values == expected, "\(op)")
            let seed = try backend.upload(HostTensor(shape: y.shape, values: [Float](repeating: 1, count: y.values.count)))
            let gradient = try backend.download(try #require(try executor.backward(from: "y", seed: seed, to: ["input"])["input"]))
            #expect(gradient.values == [Float](repeating: Float(copies), count: 192), "\(op)")
        }
    }

    /// A ConvTranspose sized by `output_shape` or `auto_pad` SAME_* is the full transposed convolution cropped by
    /// the pads onnxruntime derives (measured with onnxruntime 1.32: SAME_UPPER puts the odd row at the end,
    /// SAME_LOWER and output_shape at the start), so it equals the model with those pads written out.
    @Test func transposedConvolutionSizedByOutputShapeOrAutoPad() throws {
        var weight = Onnx_TensorProto()
        (weight.name, weight.dims, weight.dataType) = ("w", [3, 2, 3, 3], 1)
        weight.floatData = (0..<54).map { Float($0 % 11) / 5 - 1 }
        func output(ints: [String: [Int64]], autoPad: String? = nil) throws -> HostTensor {
            var node = TinyModel.node("ConvTranspose", "up", inputs: ["input", "w"], output: "y",
                                      ints: ints.merging(["strides": [2, 2]]) { $1 })
            if let autoPad {
                var attribute = Onnx_AttributeProto()
                (attribute.name, attribute.type, attribute.s) = ("auto_pad", .string, Data(autoPad.utf8))
                node.attribute.append(attribute)
            }
            let graph = try ONNXImporter.load(data: try TinyModel(nodes: [node], initializers: [weight]).data(),
                                              source: "up.onnx")
            let backend = ReferenceBackend()
            let x = HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0 % 13) - 6 })
            return try backend.download(try GraphExecutor(graph: graph, backend: backend).forward(x))
        }
        // The full output is 2·7 + 3 = 17 rows and columns.
        let upper = try output(ints: [:], autoPad: "SAME_UPPER")
        #expect(upper.shape == [1, 2, 16, 16])
        #expect(upper.values == (try output(ints: ["pads": [0, 0, 1, 1]])).values)
        #expect((try output(ints: [:], autoPad: "SAME_LOWER")).values == (try output(ints: ["pads": [1, 1, 0, 0]])).values)
        let sized = try output(ints: ["output_shape": [15, 13]])
        #expect(sized.shape == [1, 2, 15, 13])
        #expect(sized.values == (try output(ints: ["pads": [1, 2, 1, 2]])).values)
        let error = try #require(throws: ModelError.self) { try output(ints: ["output_shape": [18, 16]]) }
        #expect(error.description.contains("output size 18 on spatial axis 0 is outside 1…17"), "\(error)")
    }

    /// A model whose height and width are symbolic and that slices and reshapes by its input's shape is planned
    /// for a provisional size at load and again for each size it meets.
    @Test func symbolicHeightAndWidthArePlannedPerInputSize() throws {
        let model = TinyModel(nodes: [
            TinyModel.node("Slice", "crop", inputs: ["input", "one", "end", "two"], output: "s"),
            TinyModel.node("Shape", "shape", inputs: ["s"], output: "sh"),
            TinyModel.node("Gather", "batch", inputs: ["sh", "zero"], output: "n"),
            TinyModel.node("Concat", "target", inputs: ["n", "minusOne"], output: "t", int: ["axis": 0]),
            TinyModel.node("Reshape", "flat", inputs: ["s", "t"], output: "y"),
        ], initializers: [TinyModel.integers("one", [1]), TinyModel.integers("end", [Int64.max]),
                          TinyModel.integers("two", [2]), TinyModel.integers("zero", [0]),
                          TinyModel.integers("minusOne", [-1])], symbolicSize: true)
        let graph = try ONNXImporter.load(data: try model.data(), source: "dynamic.onnx")
        #expect(graph.plannedInput == [1, 3, 224, 224] && graph.exampleInputShape == [1, 3, 224, 224])
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: graph, backend: backend)
        for shape in [[1, 3, 8, 8], [2, 3, 6, 10], [1, 3, 8, 8]] {
            let count = shape.reduce(1, *)
            let x = HostTensor(shape: TensorShape(shape), values: (0..<count).map { Float($0) })
            let y = try backend.download(try executor.forward(x))
            let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
            #expect(y.shape == [n, c * (h - 1) * w], "\(shape)")
            let rowsKept = (0..<(n * c)).flatMap { plane in (1..<h).flatMap { row in (0..<w).map { Float((plane * h + row) * w + $0) } } }
            #expect(y.values == rowsKept, "\(shape)")
        }
    }

    private static func build(_ model: TinyModel) throws -> GraphBuilder {
        let proto = try Onnx_ModelProto(serializedBytes: try model.data())
        let source = try ONNXSource(proto, opset: model.opset, external: ExternalDataFolder(modelPath: nil))
        var builder = GraphBuilder(source, inputShape: [1, 3, 8, 8])
        for (index, node) in proto.graph.node.enumerated() { try builder.add(node, index: index) }
        return builder
    }

    private func paddings(_ graph: Graph) -> [Padding2D] {
        graph.nodes.compactMap { if case .pad(let padding, _) = $0.operation { padding } else { nil } }
    }

    private func reshapeTargets(_ graph: Graph) -> [[Int]] {
        graph.nodes.compactMap { if case .reshape(let target) = $0.operation { target } else { nil } }
    }
}
