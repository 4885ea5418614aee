import BundledModel
import Foundation
import ImageIO
import ModelGraph
import TensorOps

/// A committed model with onnxruntime's logits and PyTorch's input gradients for a committed input
/// (Tools/train_mnist.py and Tools/make_model_fixtures.py make them).
struct ModelFixture: Sendable, CustomStringConvertible {
    let name: String

    /// same_padding keeps the exporter's shape computations (TF "same" padding and a Reshape to the batch), which
    /// the importer folds: its batch of 2 runs on a graph planned again from the batch of 1 it loads with.
    static let all = ["mnist_cnn", "residual_bn", "concat_grouped", "same_padding"].map(ModelFixture.init(name:))

    var modelPath: String { directory.appendingPathComponent("model.onnx").path }

    var description: String { name }

    var directory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    /// The model: the bundled one for mnist_cnn, model.onnx beside the fixture otherwise.
    func graph() throws -> Graph {
        if name == "mnist_cnn" { return try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name) }
        return try ONNXImporter.load(contentsOf: modelPath)
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
