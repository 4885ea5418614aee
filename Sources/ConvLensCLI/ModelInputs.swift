import ArgumentParser
import Foundation
import ImageIO
import ModelGraph
import TensorOps

/// Turns `--input` files into the tensor a model takes, and model outputs into labelled classes.
enum ModelInputs {
    /// A .npy file as it is (already preprocessed, N×C×H×W float), or a PNG/JPEG preprocessed for the model.
    /// `preprocessing` is resolved only for an image: a tensor needs no size (a model whose height and width are
    /// symbolic takes any).
    static func tensor(from path: String, preprocessing: @autoclosure () throws -> ImagePreprocessing) throws -> HostTensor {
        if path.lowercased().hasSuffix(".npy") {
            return try NPYFile.read(path)
        }
        return try preprocessing().tensor(from: [RasterImage(contentsOf: path)])
    }

    /// Class labels: one per line from `file`, else the model's `convlens.labels` (a JSON array of strings).
    static func labels(for graph: Graph, file: String?) throws -> [String]? {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CommandError("cannot read labels file '\(file)'")
            }
            return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                .reversed().drop { $0.isEmpty }.reversed()
        }
        guard let json = graph.metadata["convlens.labels"], let data = json.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode([String].self, from: data)
    }
}
