import BackendParity
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// Named activations, backward to intermediate values, and the chain rule across them.
@Suite("Graph executor")
struct ExecutorTests {
    let fixture = ModelFixture(name: "residual_bn")

    @Test func activationsResolveByValueAndNodeName() throws {
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: ReferenceBackend())
        try executor.forward(try fixture.tensor("input.npy"))
        for node in executor.graph.nodes {
            let byValue = try executor.value(node.output), byNode = try executor.value(node.name)
            #expect(byValue === byNode, "\(node.name)")
            #expect(byValue.shape == executor.shapes[node.output])
        }
        let error = try #require(throws: ModelError.self) { try executor.value("/layer9/Conv") }
        #expect(error.description.hasPrefix("layer '/layer9/Conv' not found; nearest: '"))
    }

    /// Back-propagating to an intermediate value and from there to the input gives the direct input gradient.
    @Test func gradientsChainThroughIntermediateValues() throws {
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: backend)
        try executor.forward(try fixture.tensor("input.npy"))
        let output = executor.graph.outputs[0], input = executor.graph.input.name
        let addNode = try #require(executor.graph.nodes.first { if case .binary(.add) = $0.operation { true } else { false } })
        let middle = addNode.output

        var random = SeededGenerator(seed: 5)
        let seed = try backend.upload(.randomNormal(try #require(executor.shapes[output]), using: &random))
        let direct = try executor.backward(from: output, seed: seed, to: [input, middle])
        let directInput = try backend.download(try #require(direct[input]))
        let middleGradient = try backend.download(try #require(direct[middle]))

        let chained = try executor.backward(from: middle, seed: try backend.upload(middleGradient), to: [input])
        expectClose(try backend.download(try #require(chained[input])).values, directInput.values,
                    relativeL2: Tolerance.deviceVsReference, "chained vs direct input gradient")
    }

    /// Seeds at several values (feature inversion's loss over layers) give the sum of each seed's own gradient,
    /// a deeper seed passing through a shallower seeded value on its way down.
    @Test func seedsAtSeveralValuesAddTheirGradients() throws {
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: backend)
        try executor.forward(try fixture.tensor("input.npy"))
        let input = executor.graph.input.name
        let middle = executor.graph.nodes[executor.graph.nodes.count / 2].output, output = executor.graph.outputs[0]
        var random = SeededGenerator(seed: 6)
        let seeds = try [middle, output].map { ($0, try backend.upload(.randomNormal(try #require(executor.shapes[$0]), using: &random))) }
        let together = try backend.download(try #require(try executor.backward(seeds: seeds, to: [input])[input]))
        let apart = try seeds.map { value, seed in
            try backend.download(try #require(try executor.backward(from: value, seed: seed, to: [input])[input])).values
        }
        expectClose(together.values, zip(apart[0], apart[1]).map(+), relativeL2: Tolerance.deviceVsReference, "sum of the seeds' gradients")
    }

    /// With `modifiedRulesRectifyClips` a ReLU6 clip passes gradients as the rules' ReLU does: the same input
    /// gradients as the graph with ReLUs in the clips' places (no activation of this input reaches 6, where the two
    /// would part), and the plain gradient without it.
    @Test(arguments: [ReLUGradient.guided, .deconvnet])
    func theModifiedRulesRectifyAtReLU6WhenAsked(rule: ReLUGradient) throws {
        let fixture = ModelFixture(name: "pretrained_tiny")
        let clipped = try fixture.graph()
        var rectified = clipped
        for index in rectified.nodes.indices {
            if case .activation(.clip(0, _)) = rectified.nodes[index].operation { rectified.nodes[index].operation = .activation(.relu) }
        }
        let backend = ReferenceBackend()
        func inputGradient(_ graph: Graph, rectifyClips: Bool, rule: ReLUGradient) throws -> [Float] {
            let executor = try GraphExecutor(graph: graph, backend: backend)
            (executor.reluGradient, executor.modifiedRulesRectifyClips) = (rule, rectifyClips)
            let output = try executor.forward(try fixture.tensor("input.npy"))
            let seed = try backend.upload(HostTensor(shape: output.shape, values: (0..<output.shape.count).map { Float($0 % 3) - 1 }))
            let input = executor.graph.input.name
            return try backend.download(try #require(try executor.backward(from: executor.graph.outputs[0], seed: seed, to: [input])[input])).values
        }
        let expected = try inputGradient(rectified, rectifyClips: false, rule: rule)
        expectClose(try inputGradient(clipped, rectifyClips: true, rule: rule), expected, relativeL2: 1e-12, "\(rule) through ReLU6")
        #expect(try inputGradient(clipped, rectifyClips: false, rule: rule) == inputGradient(clipped, rectifyClips: false, rule: .standard))
        #expect(try inputGradient(clipped, rectifyClips: false, rule: rule) != expected)
    }

    @Test func aTargetThatDoesNotReachTheSeedGetsZeros() throws {
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: backend)
        try executor.forward(try fixture.tensor("input.npy"))
        let first = executor.graph.nodes[0].output, last = executor.graph.outputs[0]
        let seedShape = try #require(executor.shapes[first])
        let gradients = try executor.backward(
            from: first, seed: try backend.upload(HostTensor(zeros: seedShape).filled(1)), to: [last])
        #expect(try backend.download(try #require(gradients[last])).values.allSatisfy { $0 == 0 })
    }

    @Test func inputsOfTheWrongShapeAreRefused() throws {
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: ReferenceBackend())
        let error = try #require(throws: ModelError.self) { try executor.forward(HostTensor(zeros: [1, 1, 20, 18])) }
        #expect(error.description == "input 'input' must be N×3×20×18, got 1×1×20×18")
    }

    /// A tail pass from inside the residual block (the skip connection around it read from the full pass, repeated)
    /// gives the full pass's output for that image, and leaves the full pass as it was: its values and its gradient.
    @Test func aTailPassFromInsideABlockMatchesTheFullPassAndLeavesItIntact() throws {
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: backend)
        let full = try backend.download(try executor.forward(try fixture.tensor("input.npy")))
        let producers = Dictionary(executor.graph.nodes.map { ($0.output, $0) }, uniquingKeysWith: { $1 })
        let addNode = try #require(executor.graph.nodes.first { if case .binary(.add) = $0.operation { true } else { false } })
        let inside = try #require(addNode.inputs.first { if case .conv = producers[$0]?.operation { true } else { false } })
        let skip = try #require(addNode.inputs.first { $0 != inside })
        #expect(!executor.graph.descendants(of: inside).contains(skip), "the skip connection is outside the tail")

        let output = executor.graph.outputs[0]
        let seed = try backend.upload(HostTensor(zeros: full.shape).filled(1))
        let gradientBefore = try backend.download(try #require(try executor.backward(from: output, seed: seed, to: [inside])[inside]))
        let activation = try backend.download(try executor.value(inside))
        let (image, copies) = (1, 3)
        let perImage = activation.shape.count / activation.shape[0]
        let one = Array(activation.values[image * perImage..<(image + 1) * perImage])
        let replacement = HostTensor(shape: TensorShape([copies] + activation.shape.dimensions.dropFirst()),
                                     values: Array([[Float]](repeating: one, count: copies).joined()))
        let tail = try backend.download(try executor.forwardOutput(from: inside, replacedBy: try backend.upload(replacement),
                                                                   image: image))
        let classes = full.shape[1]
        let row = Array(full.values[image * classes..<(image + 1) * classes])
        #expect(tail.shape == [copies, classes])
        #expect(tail.values == Array([[Float]](repeating: row, count: copies).joined()))

        #expect(try backend.download(try executor.value(inside)).values == activation.values)
        let gradientAfter = try backend.download(try #require(try executor.backward(from: output, seed: seed, to: [inside])[inside]))
        #expect(gradientAfter.values == gradientBefore.values)

        let wrong = try #require(throws: ExecutionError.self) {
            try executor.forwardOutput(from: inside, replacedBy: try backend.upload(HostTensor(zeros: [2, 1, 2, 2])))
        }
        #expect(wrong.description.hasPrefix("the replacement for '\(inside)' must be 2×"))
    }
}

extension HostTensor {
    func filled(_ value: Float) -> HostTensor { HostTensor(shape: shape, values: [Float](repeating: value, count: shape.count)) }
}
