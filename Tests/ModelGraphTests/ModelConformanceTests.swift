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
        try check(fixture, on: try TestBackends.device())
    }

    private func check<B: Backend>(_ fixture: ModelFixture, on backend: B) throws {
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
        let gradient = try backend.download(try #require(gradients[inputName]))
        expectClose(gradient.values, try fixture.tensor("input_grad.npy").values,
                    relativeL2: Tolerance.inputGradientVsPyTorch, "\(fixture) input gradient")
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
