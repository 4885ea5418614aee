import BackendParity
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The ops of modern CNNs and ViTs as both PyTorch exporters write them, on both backends: outputs and input
/// gradients against PyTorch (Tools/make_exported_op_fixtures.py).
@Suite("Exported ops")
struct ExportedOpsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let model: String
        let exporter: String
        var testDescription: String { "\(model) (\(exporter))" }
        var folder: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/exported_ops/\(model)") }

        func array(_ file: String) throws -> HostTensor { try NPYFile.read(folder.appendingPathComponent(file).path) }
    }

    static let cases = ["conv_transpose", "convnext_block", "split_slice", "upsample", "vit_tiny"].flatMap { model in
        ["legacy", "dynamo"].map { Case(model: model, exporter: $0) }
    }

    @Test(arguments: cases) func referenceBackend(_ fixture: Case) throws {
        try check(fixture, on: ReferenceBackend())
    }

    @Test(.enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: cases)
    func openCLBackend(_ fixture: Case) throws {
        try check(fixture, on: try TestBackends.device())
    }

    private func check<B: Backend>(_ fixture: Case, on backend: B) throws {
        let graph = try ONNXImporter.load(contentsOf: fixture.folder.appendingPathComponent("\(fixture.exporter).onnx").path)
        let executor = try GraphExecutor(graph: graph, backend: backend)
        let output = try backend.download(try executor.forward(try fixture.array("input.npy")))
        let expected = try fixture.array("output.npy")
        #expect(output.shape == expected.shape)
        expectClose(output.values.map(Double.init), expected.values.map(Double.init),
                    relativeL2: Tolerance.modelVsONNXRuntime, "\(fixture.testDescription) output")

        let input = executor.graph.input.name
        let gradients = try executor.backward(from: executor.graph.outputs[0],
                                              seed: try backend.upload(try fixture.array("seed.npy")), to: [input])
        let gradient = try backend.download(try #require(gradients[input]))
        expectClose(gradient.values.map(Double.init), try fixture.array("input_grad.npy").values.map(Double.init),
                    relativeL2: Tolerance.inputGradientVsPyTorch, "\(fixture.testDescription) input gradient")
    }
}
