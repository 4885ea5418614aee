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
}

extension HostTensor {
    func filled(_ value: Float) -> HostTensor { HostTensor(shape: shape, values: [Float](repeating: value, count: shape.count)) }
}
