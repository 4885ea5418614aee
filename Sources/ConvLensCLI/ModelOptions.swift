import ArgumentParser
import BundledModel
import ModelGraph

/// The MODEL argument every model command takes; the bundled MNIST model when it is omitted.
struct ModelOptions: ParsableArguments {
    @Argument(help: "An ONNX model file. Omit it to use the bundled MNIST model.")
    var model: String?

    /// The model's name for reports.
    var modelName: String { model ?? BundledModel.name }

    /// Loads and checks the model.
    func load() throws -> Graph {
        if let model { return try ONNXImporter.load(contentsOf: model) }
        return try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name)
    }
}
