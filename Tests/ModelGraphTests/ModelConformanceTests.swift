import BackendParity
import Foundation
import ModelGraph
import OpenCLBackend
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// Whole models on both backends against onnxruntime (logits) and PyTorch autograd (input gradients).
@Suite("Models match onnxruntime and PyTorch")
struct ModelConformanceTests {
    @Test(arguments: ModelFixture.all)
    func referenceBackend(_ fixture: ModelFixture) throws {
        try check(fixture, on: ReferenceBackend())
    }

    @Test(.enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: ModelFixture.all)
    func openCLBackend(_ fixture: ModelFixture) throws {
        try check(fixture, on: try TestBackends.device(), images: try float32DeterminedImages(fixture))
    }

    /// The images of `fixture` on which every ReLU decision is clear of float32 rounding
    /// (`Tolerance.reluDecisionMargin`), judged in Double on the reference backend.
    private func float32DeterminedImages(_ fixture: ModelFixture) throws -> [Int] {
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: backend)
        let input = try fixture.tensor("input.npy")
        try executor.forward(input)
        var ambiguous = Set<Int>()
        for node in executor.graph.nodes {
            guard case .activation(.relu) = node.operation else { continue }
            let value = try backend.download(try executor.value(node.inputs[0]))
            let rms = (value.values.reduce(0) { $0 + Double($1) * Double($1) } / Double(value.values.count)).squareRoot()
            let perImage = value.values.count / value.shape[0]
            for (index, element) in value.values.enumerated() where Double(abs(element)) < Tolerance.reluDecisionMargin * rms {
                ambiguous.insert(index / perImage)
            }
        }
        #expect(ambiguous.count < input.shape[0], "\(fixture): no image has float32-determined ReLU decisions")
        return (0..<input.shape[0]).filter { !ambiguous.contains($0) }
    }

    /// Logits on every image; the input gradient on `images` (nil: all).
    private func check<B: Backend>(_ fixture: ModelFixture, on backend: B, images: [Int]? = nil) throws {
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: backend)
        let input = try fixture.tensor("input.npy")
        let logits = try backend.download(try executor.forward(input))
        let expected = try fixture.tensor("logits.npy")
        #expect(logits.shape == expected.shape)
        expectClose(logits.values, expected.values, relativeL2: Tolerance.modelVsONNXRuntime, "\(fixture) logits")

        var seed = HostTensor(zeros: logits.shape)
        let classes = logits.shape[1]
        for (sample, chosen) in try fixture.gradientClasses().enumerated() { seed.values[sample * classes + chosen] = 1 }
        let inputName = executor.graph.input.name
        let gradients = try executor.backward(
            from: executor.graph.outputs[0], seed: try backend.upload(seed), to: [inputName])
        let gradient = try backend.download(try #require(gradients[inputName])).values
        let autograd = try fixture.tensor("input_grad.npy").values
        let perImage = input.shape.count / input.shape[0]
        let compared = images ?? Array(0..<input.shape[0])
        expectClose(compared.flatMap { gradient[$0 * perImage..<($0 + 1) * perImage] },
                    compared.flatMap { autograd[$0 * perImage..<($0 + 1) * perImage] },
                    relativeL2: Tolerance.inputGradientVsPyTorch, "\(fixture) input gradient on images \(compared)")
    }

    @Test(arguments: ModelFixture.all)
    func batchSizeIsDynamic(_ fixture: ModelFixture) throws {
        let backend = ReferenceBackend()
        let executor = try GraphExecutor(graph: try fixture.graph(), backend: backend)
        let input = try fixture.tensor("input.npy")
        let all = try backend.download(try executor.forward(input))
        let perSample = input.shape.count / input.shape[0]
        var firstShape = input.shape.dimensions
        firstShape[0] = 1
        let first = HostTensor(shape: TensorShape(firstShape), values: Array(input.values.prefix(perSample)))
        let single = try backend.download(try executor.forward(first))
        #expect(single.shape[0] == 1)
        expectClose(single.values, Array(all.values.prefix(single.values.count)),
                    relativeL2: Tolerance.deviceVsReference, "first sample alone vs in the batch")
    }
}
