import Foundation

/// The default model every command uses when none is named: a small VGG-style CNN trained on real MNIST digits
/// by Tools/train_mnist.py (see TRAINING.md beside this file). Its bytes are compiled into the binary, so it
/// works from any working directory and from a relocated `convlens`.
public enum BundledModel {
    /// The name commands show for it.
    public static let name = "mnist_cnn.onnx (bundled)"

    /// The ONNX file's bytes.
    public static var onnxData: Data {
        guard let encoded = embeddedDataFiles["mnist_cnn.onnx"], let data = Data(base64Encoded: encoded) else {
            // The build plugin embeds the file next to this source; without it the package would not have built.
            preconditionFailure("the bundled model was not embedded at build time")
        }
        return data
    }
}
