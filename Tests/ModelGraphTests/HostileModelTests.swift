import Foundation
@testable import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// Models built to break the importer (the red-team pass of issue 18): sizes whose arithmetic overflows, sizes
/// that would allocate more than any device holds, and invalid graphs ONNX readers disagree on. Each is refused at
/// load with one line naming the node and what is wrong, before anything is computed or allocated from it.
@Suite("Hostile models")
struct HostileModelTests {
    static let huge: Int64 = 1 << 62

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let model: TinyModel
        let message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        var weight = Onnx_TensorProto()
        (weight.name, weight.dims, weight.dataType) = ("w", [3, 3, 3, 3], 1)
        weight.floatData = [Float](repeating: 1, count: 81)
        func one(_ op: String, inputs: [String] = ["input"], ints: [String: [Int64]] = [:],
                 initializers: [Onnx_TensorProto] = []) -> TinyModel {
            TinyModel(nodes: [TinyModel.node(op, "n", inputs: inputs, output: "y", ints: ints)], initializers: initializers)
        }
        var twice = one("Add", inputs: ["input", "c"], initializers: [TinyModel.integers("c", [1]), TinyModel.integers("c", [2])])
        twice.initializers = twice.initializers.map { var t = $0; t.dataType = 1; t.floatData = [1]; t.int64Data = []; return t }
        var hugeInput = one("Relu")
        hugeInput.inputDimensions = [1, 3, 1 << 40, 1 << 40]
        var negativeInput = one("Relu")
        negativeInput.inputDimensions = [1, 3, -5, 8]
        func floats(_ name: String, _ values: [Float]) -> Onnx_TensorProto {
            var tensor = Onnx_TensorProto()
            (tensor.name, tensor.dims, tensor.dataType, tensor.floatData) = (name, [Int64(values.count)], 1, values)
            return tensor
        }
        let negativeVariance = one("BatchNormalization", inputs: ["input", "s", "b", "m", "v"], initializers: [
            floats("s", [1, 1, 1]), floats("b", [0, 0, 0]), floats("m", [0, 0, 0]), floats("v", [1, -2, 1]),
        ])
        var noOutputs = one("Relu")
        noOutputs.outputNames = []
        return [
            Case(name: "Reshape target overflowing Int", model: one("Reshape", inputs: ["input", "t"],
                 initializers: [TinyModel.integers("t", [Int64.max, 2])]), message: "target shape [9223372036854775807, 2] is too large"),
            Case(name: "Conv pads near 2⁶²", model: one("Conv", inputs: ["input", "w"], ints: ["pads": [huge, 0, huge, 0]],
                 initializers: [weight]), message: "must be from 0 to 16777216"),
            Case(name: "Conv dilation near 2⁶²", model: one("Conv", inputs: ["input", "w"], ints: ["dilations": [huge, 1]],
                 initializers: [weight]), message: "must be from 1 to 16777216"),
            Case(name: "ConvTranspose stride 2⁴⁰", model: one("ConvTranspose", inputs: ["input", "w"],
                 ints: ["strides": [1 << 40, 1 << 40]], initializers: [weight]), message: "must be from 0 to 16777216"),
            Case(name: "Pad near 2⁶²", model: one("Pad", inputs: ["input", "p"],
                 initializers: [TinyModel.integers("p", [0, 0, huge, 0, 0, 0, 0, 0])]), message: "must be from 0 to 16777216"),
            Case(name: "Pad to 480 GB", model: one("Pad", inputs: ["input", "p"],
                 initializers: [TinyModel.integers("p", [0, 0, 100_000, 100_000, 0, 0, 100_000, 100_000])]),
                 message: "its output [1, 3, 200008, 200008] would hold more than 2147483647 elements"),
            Case(name: "Resize to 2⁴⁰", model: one("Resize", inputs: ["input", "", "", "s"],
                 initializers: [TinyModel.integers("s", [1, 3, 1 << 40, 1 << 40])]), message: "can be resized"),
            Case(name: "MaxPool kernel near 2⁶²", model: one("MaxPool", ints: ["kernel_shape": [huge, 2]]),
                 message: "must be from 1 to 16777216"),
            Case(name: "input of 2⁸⁰ pixels", model: hugeInput, message: "declares size 1099511627776 for axis 2"),
            Case(name: "negative input size", model: negativeInput, message: "declares size -5 for axis 2"),
            Case(name: "no outputs", model: noOutputs, message: "the graph has no outputs"),
            Case(name: "negative BatchNorm variance", model: negativeVariance,
                 message: "its variance for channel 1 is -2.0; it must be above −epsilon"),
            Case(name: "two initializers with one name", model: twice, message: "tensor 'c': two initializers have this name"),
            Case(name: "a value written twice", model: TinyModel(nodes: [
                TinyModel.node("Relu", "a", inputs: ["input"], output: "y"), TinyModel.node("Relu", "b", inputs: ["y"], output: "y"),
            ]), message: "node 'b' (Relu): its output 'y' is already defined"),
            Case(name: "a required input left empty", model: one("Conv", inputs: ["input", "", "w"], initializers: [weight]),
                 message: "its input 1 has an empty name (only trailing optional inputs may be left out)"),
            Case(name: "misspelled attribute", model: one("MaxPool", ints: ["kernel_shape": [2, 2], "surides": [2, 2]]),
                 message: "'surides' is not an attribute of MaxPool (it has: auto_pad, ceil_mode,"),
            Case(name: "attribute given twice", model: {
                var model = one("MaxPool", ints: ["kernel_shape": [2, 2]])
                model.nodes[0].attribute.append(model.nodes[0].attribute[0])
                return model
            }(), message: "attribute 'kernel_shape' is given twice"),
        ]
    }()

    @Test(arguments: cases) func refusedInOneLine(_ hostile: Case) throws {
        let error = try #require(throws: ModelError.self) {
            try ONNXImporter.load(data: try hostile.model.data(), source: "hostile.onnx")
        }
        #expect(error.description.contains(hostile.message), "\(error.description)")
        #expect(!error.description.contains("\n"))
    }

    /// A NaN stays a NaN through ReLU, Clip, HardSigmoid and max-pool on both backends, as in PyTorch (`fmax` would
    /// drop it and give a confident number), and the executor names the first node whose output is not finite.
    @Test func nanPropagatesAndIsNamed() throws {
        var float = Onnx_TensorProto()
        (float.name, float.dims, float.dataType, float.floatData) = ("six", [], 1, [6])
        var zero = Onnx_TensorProto()
        (zero.name, zero.dims, zero.dataType, zero.floatData) = ("zero", [], 1, [0])
        let model = TinyModel(nodes: [
            TinyModel.node("Relu", "relu", inputs: ["input"], output: "r"),
            TinyModel.node("Clip", "clip", inputs: ["r", "zero", "six"], output: "c"),
            TinyModel.node("HardSigmoid", "hard", inputs: ["c"], output: "h"),
            TinyModel.node("MaxPool", "pool", inputs: ["h"], output: "y", ints: ["kernel_shape": [2, 2], "strides": [2, 2]]),
        ], initializers: [float, zero])
        let graph = try ONNXImporter.load(data: try model.data(), source: "nan.onnx")
        var values = [Float](repeating: -1, count: 192)
        values[0] = .nan  // channel 0, row 0, column 0: pooled into output (0, 0, 0, 0)
        let x = HostTensor(shape: [1, 3, 8, 8], values: values)
        func check<B: Backend>(_ backend: B) throws {
            let executor = try GraphExecutor(graph: graph, backend: backend)
            let y = try backend.download(try executor.forward(x))
            #expect(y.values[0].isNaN, "\(backend.name)")
            #expect(y.values.dropFirst().allSatisfy { $0 == 0.5 }, "\(backend.name)")  // hard_sigmoid(0) elsewhere
            let error = try #require(throws: ExecutionError.self) { try executor.requireFinite(y) }
            #expect(error.description.hasPrefix("the input 'input' holds NaN"), "\(error)")
        }
        try check(ReferenceBackend())
        if TestBackends.hasOpenCL { try check(try TestBackends.device()) }
    }

    /// Found by Tools/fuzz.sh onnx-import. The first: a ReduceMean whose axes input is an empty list trapped on `axes.last!`.
    /// An empty list means every axis (ONNX); without keepdims that leaves no shape, which is refused in one line.
    @Test func fuzzerFindingsAreRefusedInOneLine() throws {
        let path = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/fuzz/reduce_empty_axes.onnx").path
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(contentsOf: path) }
        #expect(error.description.contains("(ReduceMean): axes 0…3 do not fit input"), "\(error)")
        // The second: a node without inputs (lowerings read input 0 unchecked); every op's required inputs are
        // checked against its ONNX schema first.
        let noInputs = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/fuzz/reduce_without_inputs.onnx").path
        let second = try #require(throws: ModelError.self) { try ONNXImporter.load(contentsOf: noInputs) }
        #expect(second.description.hasSuffix("(ReduceMean): ReduceMean takes at least 1 input, this node has 0"), "\(second)")

        let everyAxis = TinyModel(opset: 18, nodes: [TinyModel.node("ReduceMean", "mean", inputs: ["input", "axes"], output: "y")],
                                  initializers: [TinyModel.integers("axes", [])])
        let graph = try ONNXImporter.load(data: try everyAxis.data(), source: "mean.onnx")
        let backend = ReferenceBackend()
        let x = HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0) })
        let y = try backend.download(try GraphExecutor(graph: graph, backend: backend).forward(x))
        #expect(y.shape == [1, 1, 1, 1] && y.values == [95.5])
    }
}
