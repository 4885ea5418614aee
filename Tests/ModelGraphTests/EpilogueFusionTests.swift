import BackendParity
import Foundation
@testable import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// An output-only forward pass (`GraphExecutor.outputOnly`) folds activations and residual additions into the
/// convolutions before them and shares buffers by lifetime, gives the unfused outputs (bit for bit on the device for
/// ReLU and clip, whose sums run in the same order), and refuses what it no longer keeps.
@Suite("Epilogue fusion")
struct EpilogueFusionTests {
    /// conv → ReLU (folded); conv → Add(shortcut) → Clip (folded, the ReLU's output as the shortcut); a conv whose
    /// output is also a model output (kept, so not folded) → ReLU.
    static func model() throws -> Graph {
        var random = SeededGenerator(seed: 0xF05E)
        func floats(_ name: String, _ shape: [Int64]) -> Onnx_TensorProto {
            var tensor = Onnx_TensorProto()
            (tensor.name, tensor.dims, tensor.dataType) = (name, shape, 1)
            tensor.floatData = HostTensor.randomNormal(TensorShape(shape.map(Int.init)), scale: 0.3, using: &random).values
            return tensor
        }
        let padded: [String: [Int64]] = ["pads": [1, 1, 1, 1]]
        let nodes = [
            TinyModel.node("Conv", "conv_a", inputs: ["input", "w1", "b1"], output: "a", ints: padded),
            TinyModel.node("Relu", "relu_a", inputs: ["a"], output: "ra"),
            TinyModel.node("Conv", "conv_b", inputs: ["ra", "w2", "b2"], output: "b", ints: padded),
            TinyModel.node("Add", "shortcut", inputs: ["ra", "b"], output: "s"),
            TinyModel.node("Clip", "clip", inputs: ["s", "low", "high"], output: "c"),
            TinyModel.node("Conv", "conv_d", inputs: ["c", "w3"], output: "d"),
            TinyModel.node("Relu", "relu_d", inputs: ["d"], output: "y"),
        ]
        var low = floats("low", []), high = floats("high", [])
        (low.floatData, high.floatData) = ([0], [0.75])
        var model = TinyModel(nodes: nodes, initializers: [
            floats("w1", [8, 3, 3, 3]), floats("b1", [8]), floats("w2", [8, 8, 3, 3]), floats("b2", [8]),
            floats("w3", [4, 8, 1, 1]), low, high,
        ])
        model.inputDimensions = [2, 3, 8, 8]
        model.outputNames = ["y", "d"]
        return try ONNXImporter.load(data: try model.data(), source: "fusion.onnx")
    }

    func outputs<B: Backend>(_ graph: Graph, on backend: B, fused: Bool, input: HostTensor) throws -> [[Float]] {
        let executor = try GraphExecutor(graph: graph, backend: backend)
        executor.outputOnly = fused
        try executor.forward(input)
        return try ["y", "d"].map { try backend.download(try executor.value($0)).values }
    }

    @Test func foldedOutputsMatchTheUnfusedOnes() throws {
        let graph = try Self.model()
        var random = SeededGenerator(seed: 7)
        let input = HostTensor.randomNormal([2, 3, 8, 8], using: &random)
        let reference = ReferenceBackend()
        let (plain, fused) = (try outputs(graph, on: reference, fused: false, input: input),
                              try outputs(graph, on: reference, fused: true, input: input))
        for (a, b) in zip(plain, fused) { expectClose(b, a, relativeL2: Tolerance.deviceVsReference, "reference") }
        guard TestBackends.hasOpenCL else { return }
        let device = try TestBackends.device()
        let unfused = try outputs(graph, on: device, fused: false, input: input)
        for algorithm in [ConvAlgorithm.implicitGemm, .im2colGemm, .direct] {
            let folded = try device.withConvAlgorithm(algorithm) { try outputs(graph, on: device, fused: true, input: input) }
            let unfolded = try device.withConvAlgorithm(algorithm) { try outputs(graph, on: device, fused: false, input: input) }
            #expect(folded.map { $0.map(\.bitPattern) } == unfolded.map { $0.map(\.bitPattern) }, "\(algorithm)")
        }
        for (a, b) in zip(plain, unfused) { expectClose(b, a, relativeL2: Tolerance.deviceVsReference, "device") }
    }

    @Test func aFusedPassKeepsOnlyWhatItStores() throws {
        let graph = try Self.model()
        let executor = try GraphExecutor(graph: graph, backend: ReferenceBackend())
        executor.outputOnly = true
        let input = HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0 % 7) / 7 })
        let plan = graph.epiloguePlan(shapes: try graph.inferShapes(input: input.shape, through: nil))
        #expect(plan.convolutions.keys.sorted() == ["conv_a", "conv_b"])
        #expect(plan.convolutions["conv_a"]?.epilogue == ConvEpilogue(activation: .relu))
        #expect(plan.convolutions["conv_b"]?.epilogue == ConvEpilogue(residual: true, activation: .clip(min: 0, max: 0.75)))
        #expect(plan.convolutions["conv_b"]?.residual == "ra")
        let output = try executor.forward(input)
        // Folded away (a, b, s) or stored in a buffer later values share (ra, c): only the outputs are kept.
        for value in ["a", "b", "s", "ra", "c"] {
            let error = try #require(throws: ExecutionError.self) { try executor.value(value) }
            #expect(error.description.hasPrefix("value '\(value)' is not kept by an output-only forward pass"))
        }
        _ = try executor.value("d")  // a model output: never folded away
        let seed = try executor.backend.upload(HostTensor(zeros: output.shape))
        let error = try #require(throws: ExecutionError.self) {
            try executor.backward(from: "y", seed: seed, to: ["input"])
        }
        #expect(error.description.contains("was output-only"))
        // An unfused pass on the same executor differentiates again.
        executor.outputOnly = false
        try executor.forward(input)
        _ = try executor.backward(from: "y", seed: seed, to: ["input"])
    }

    /// Stored values share buffers once their last reader has run: ra and c (1024 floats each, alive together at
    /// conv_b), then d and y (512 each, model outputs, kept to the end), against all seven node outputs kept.
    @Test func valuesShareBuffersByLifetime() throws {
        let memory = try Self.model().activationMemory(input: [2, 3, 8, 8])
        #expect(memory.kept == 4 * (5 * 1024 + 2 * 512))
        #expect(memory.shared == 4 * (2 * 1024 + 2 * 512))
    }

    /// A NaN weight inside a folded convolution: the diagnosis runs the pass again keeping every value and names
    /// the convolution itself, not the clip its epilogue applied.
    @Test func aNonFiniteOutputIsTracedToItsNode() throws {
        var graph = try Self.model()
        graph.constants["w2"]!.values[5] = .nan
        let executor = try GraphExecutor(graph: graph, backend: ReferenceBackend())
        let output = try executor.backend.download(
            try executor.forwardOutput(HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0) / 192 })))
        let error = try #require(throws: ExecutionError.self) { try executor.requireFinite(output) }
        #expect(error.description.hasPrefix("node 'conv_b' (Conv) is the first to produce NaN"), "\(error)")
        #expect(executor.outputOnly == false)
    }

    /// Output-only passes at changing batch sizes (Score-CAM's last, smaller chunk) each give the unfused outputs.
    @Test func outputOnlyPassesFollowTheBatchSize() throws {
        let graph = try Self.model()
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: graph, backend: backend)
        var random = SeededGenerator(seed: 11)
        for batch in [2, 1, 3, 2] {
            let input = HostTensor.randomNormal([batch, 3, 8, 8], using: &random)
            executor.outputOnly = true
            let fused = try backend.download(try executor.forward(input)).values
            executor.outputOnly = false
            let plain = try backend.download(try executor.forward(input)).values
            expectClose(fused, plain, relativeL2: Tolerance.deviceVsReference, "batch \(batch)")
        }
    }

    /// The exported residual block, fused on the device: the same bits as unfused, in an output-only pass and in
    /// the input gradient of a folding gradient pass.
    @Test(.enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func exportedModelsGiveTheSameBits() throws {
        let device = try TestBackends.device()
        let fixture = ModelFixture(name: "residual_bn")
        let graph = try fixture.graph()
        let input = try fixture.tensor("input.npy")
        let plan = graph.epiloguePlan(shapes: try graph.inferShapes(input: input.shape, through: nil))
        #expect(plan.convolutions.values.contains { $0.epilogue.residual && $0.epilogue.activation == .relu },
                "\(plan.convolutions)")
        func run(_ fused: Bool) throws -> [UInt32] {
            let executor = try GraphExecutor(graph: graph, backend: device)
            executor.outputOnly = fused
            return try device.download(try executor.forward(input)).values.map(\.bitPattern)
        }
        #expect(try run(true) == (try run(false)))
        func gradient(folding: Bool) throws -> [UInt32] {
            let executor = try GraphExecutor(graph: graph, backend: device)
            executor.foldsEpilogues = folding ? [] : nil
            let output = try executor.forward(input)
            let seed = try device.upload(HostTensor(shape: output.shape, values: (0..<output.shape.count).map { Float($0 % 3) - 1 }))
            let name = graph.input.name
            return try device.download(try #require(try executor.backward(from: graph.outputs[0], seed: seed, to: [name])[name]))
                .values.map(\.bitPattern)
        }
        #expect(try gradient(folding: true) == (try gradient(folding: false)))
    }
}
