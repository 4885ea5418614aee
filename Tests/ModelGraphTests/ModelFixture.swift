import BundledModel
import Foundation
import ImageIO
import ModelGraph
import TensorOps

/// A committed model with onnxruntime's logits and PyTorch's input gradients for a committed input
/// (Tools/train_mnist.py and Tools/make_model_fixtures.py make them).
struct ModelFixture: Sendable, CustomStringConvertible {
    let name: String

    static let all = [ModelFixture(name: "mnist_cnn"), ModelFixture(name: "residual_bn"), ModelFixture(name: "concat_grouped")]

    var description: String { name }

    var directory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    /// The model: the bundled one for mnist_cnn, model.onnx beside the fixture otherwise.
    func graph() throws -> Graph {
        if name == "mnist_cnn" { return try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name) }
        return try ONNXImporter.load(contentsOf: directory.appendingPathComponent("model.onnx").path)
    }

    func tensor(_ file: String) throws -> HostTensor {
        try NPYFile.read(directory.appendingPathComponent(file).path)
    }

    /// For each sample, the class whose score the committed input gradient differentiates.
    func gradientClasses() throws -> [Int] {
        struct Metadata: Decodable { let grad_classes: [Int] }
        let data = try Data(contentsOf: directory.appendingPathComponent("fixture.json"))
        return try JSONDecoder().decode(Metadata.self, from: data).grad_classes
    }
}
