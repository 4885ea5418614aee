import BackendParity
@testable import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// A forward pass that keeps values for gradients (`GraphExecutor.foldsEpilogues`) folds the residual additions and
/// the activations whose derivative their output gives, keeps the values it is asked to, and differentiates to the
/// same bits as an unfolded pass.
extension EpilogueFusionTests {
    /// In the test model conv_a folds its ReLU and conv_b its sum and clip, differentiated at ra and c; keeping the
    /// sum s leaves conv_b the sum alone.
    @Test func aGradientPassFoldsWhatItDifferentiatesAtTheOutput() throws {
        let graph = try Self.model()
        let shapes = try graph.inferShapes(input: [2, 3, 8, 8], through: nil)
        let plan = graph.epiloguePlan(shapes: shapes, keeping: [])
        #expect(plan.convolutions.keys.sorted() == ["conv_a", "conv_b"])
        #expect(plan.activationInputs == ["a": "ra", "s": "c"])
        #expect(plan.skipped == ["a", "b", "s"])
        let keepingSum = graph.epiloguePlan(shapes: shapes, keeping: ["s"])
        #expect(keepingSum.convolutions["conv_b"]?.epilogue == ConvEpilogue(residual: true))
        #expect(keepingSum.convolutions["conv_b"]?.output == "s")
        #expect(keepingSum.activationInputs == ["a": "ra"])
        // Hard swish and SiLU need their input; a leaky ReLU with a negative slope flips the output's sign.
        #expect([Activation.relu, .clip(min: 0, max: 6), .leakyReLU(alpha: 0.1)].allSatisfy(ConvEpilogue.derivativeFollowsOutput))
        #expect(![Activation.hardSwish, .silu, .leakyReLU(alpha: -0.5)].contains(where: ConvEpilogue.derivativeFollowsOutput))
    }

    /// Outputs and gradients (to the input, and to values folded away or kept) under each ReLU rule: the same bits
    /// folded as unfolded on the device under every algorithm that folds, close on the reference (whose epilogue sums
    /// in Double).
    @Test func aFoldingGradientPassGivesTheSameGradients() throws {
        let graph = try Self.model()
        var random = SeededGenerator(seed: 9)
        let input = HostTensor.randomNormal([2, 3, 8, 8], using: &random)
        let seed = HostTensor.randomNormal([2, 4, 8, 8], using: &random)
        let targets = ["input", "a", "ra", "s"]
        func run<B: Backend>(_ backend: B, folding: Bool, rule: ReLUGradient) throws -> [[Float]] {
            let executor = try GraphExecutor(graph: graph, backend: backend)
            (executor.foldsEpilogues, executor.reluGradient) = (folding ? [] : nil, rule)
            try executor.forward(input)
            let gradients = try executor.backward(from: "y", seed: try backend.upload(seed), to: targets)
            return try ["y", "d"].map { try backend.download(try executor.value($0)).values }
                + targets.map { try backend.download(try #require(gradients[$0])).values }
        }
        for rule in ReLUGradient.allCases {
            let reference = ReferenceBackend()
            for (plain, folded) in zip(try run(reference, folding: false, rule: rule), try run(reference, folding: true, rule: rule)) {
                expectClose(folded, plain, relativeL2: Tolerance.deviceVsReference, "reference, \(rule)")
            }
            guard TestBackends.hasOpenCL else { continue }
            let device = try TestBackends.device()
            for algorithm in [ConvAlgorithm.implicitGemm, .im2colGemm, .direct] {
                let (folded, plain) = try device.withConvAlgorithm(algorithm) {
                    (try run(device, folding: true, rule: rule), try run(device, folding: false, rule: rule))
                }
                #expect(folded.map { $0.map(\.bitPattern) } == plain.map { $0.map(\.bitPattern) }, "\(algorithm), \(rule)")
            }
        }
    }

    /// The values a folding pass never stored are refused by name; those it was told to keep are read.
    @Test func aFoldingGradientPassRefusesWhatItFolded() throws {
        let executor = try GraphExecutor(graph: try Self.model(), backend: ReferenceBackend())
        executor.foldsEpilogues = ["s"]
        try executor.forward(HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0 % 5) / 5 }))
        for value in ["a", "b"] {
            let error = try #require(throws: ExecutionError.self) { try executor.value(value) }
            #expect(error.description.hasPrefix("value '\(value)' was folded into a convolution's store"))
        }
        for value in ["ra", "s", "c", "d", "y"] { _ = try executor.value(value) }
    }

    /// A NaN weight inside a convolution that a gradient pass folded: the diagnosis names the convolution, not the
    /// clip its store applied.
    @Test func aNonFiniteValueOfAFoldingPassIsTracedToItsNode() throws {
        var graph = try Self.model()
        graph.constants["w2"]!.values[5] = .nan
        let executor = try GraphExecutor(graph: graph, backend: ReferenceBackend())
        executor.foldsEpilogues = []
        let output = try executor.backend.download(
            try executor.forward(HostTensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0) / 192 })))
        let error = try #require(throws: ExecutionError.self) { try executor.requireFinite(output) }
        #expect(error.description.hasPrefix("node 'conv_b' (Conv) is the first to produce NaN"), "\(error)")
        #expect(executor.foldsEpilogues == [])
    }
}
