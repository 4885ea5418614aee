import ModelGraph
import TensorOps

/// One layer's features for a stream of image batches, the input of an embedding: an N×C×H×W activation is
/// global-average-pooled on the backend (or flattened), N×T×C tokens averaged over T, N×D kept; with each image's
/// predicted class (the argmax of the model's first output) for labels and metadata.
public final class LayerFeatures<B: Backend> {
    public let layer: String
    public let flatten: Bool
    /// Features per image, once the first batch has run.
    public private(set) var dimensions = 0
    /// N×D row-major.
    public private(set) var values: [Float] = []
    public private(set) var predictions: [Int] = []
    private let executor: GraphExecutor<B>
    private var backend: B { executor.backend }

    /// The most features per image an embedding takes: beyond this, a flattened early layer would hold gigabytes
    /// for a few thousand images and the distances would be dominated by pixel position.
    public static var maximumDimensions: Int { 65_536 }

    public init(graph: Graph, backend: B, layer: String, flatten: Bool) throws {
        executor = try GraphExecutor(graph: graph, backend: backend)
        executor.foldsEpilogues = [layer]
        (self.layer, self.flatten) = (layer, flatten)
    }

    /// Features per image of an activation of one image's `shape`, or why it is not features-like.
    public static func dimensions(of shape: TensorShape, layer: String, flatten: Bool) -> Result<Int, ShapeError> {
        let perImage = shape.count / max(shape[0], 1)
        let count: Int? = switch shape.rank {
        case 2: shape[1]
        case 3: flatten ? perImage : shape[2]
        case 4: flatten ? perImage : shape[1]
        default: nil
        }
        guard let count, count >= 2 else {
            return .failure(ShapeError(op: "embed", message: "layer '\(layer)' is \(shape): features need N×D, N×T×D tokens or "
                + "N×C×H×W maps with at least 2 features; choose a later layer"))
        }
        guard count <= maximumDimensions else {
            return .failure(ShapeError(op: "embed", message: "layer '\(layer)' is \(shape): \(count) features per image "
                + "(at most \(maximumDimensions)); pool it (without --flatten) or choose a later layer"))
        }
        return .success(count)
    }

    /// Runs a batch (N×C×H×W) and appends its features and predictions.
    public func observe(_ batch: HostTensor) throws {
        let output = try backend.download(try executor.forward(try backend.upload(batch)))
        let activation = try executor.value(layer)
        let shape = activation.shape, n = shape[0]
        dimensions = try Self.dimensions(of: shape, layer: layer, flatten: flatten).get()
        let features: HostTensor
        if flatten || shape.rank == 2 {
            features = try backend.download(activation)
        } else {
            let pooled = try backend.makeTensor([n, dimensions])
            try backend.reduceForward(.mean, input: activation, output: pooled, axes: shape.rank == 4 ? 2...3 : 1...1)
            features = try backend.download(pooled)
        }
        try executor.requireFinite(features)
        values += features.values
        let classes = output.shape.count / n
        predictions += (0..<n).map { image in
            let scores = output.values[(image * classes)..<((image + 1) * classes)]
            return scores.indices.max { scores[$0] < scores[$1] }.map { $0 - image * classes } ?? 0
        }
    }
}
