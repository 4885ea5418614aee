import ModelGraph
import TensorOps

/// What one explanation produced, still on the backend: maps N×1×H×W in [0, 1] at the input's size.
public struct ClassActivationMaps<B: Backend> {
    public let maps: B.Tensor
    /// The class each map explains, per image.
    public let classes: [Int]
    /// Each image's score (logit) for that class.
    public let scores: [Float]
}

/// Gradient-weighted class activation maps (Grad-CAM and its family) over the backend's buffers, with
/// pytorch-grad-cam's semantics so results compare one to one: forward, the class score's gradient back to each
/// layer, the rule's map with ReLU, per-image min-max normalization, bilinear resize (half-pixel centres) to the
/// input size; several layers are averaged and normalized once more. Only the class scores come back to the host
/// (to pick the top class); everything else stays in device buffers.
public final class ClassActivationMapper<B: Backend> {
    public let rule: CAMRule
    public let layers: [String]
    private let executor: GraphExecutor<B>
    private var backend: B { executor.backend }

    /// - Throws: `ModelError.noSuchLayer` with the nearest names, `VisualizationError.badLayer` for a layer whose
    ///   activation has no spatial extent.
    public init(graph: Graph, backend: B, layers: [String], rule: CAMRule, inputShape: TensorShape) throws {
        let resolved = try layers.map { try graph.resolve($0) }
        let shapes = try graph.inferShapes(input: inputShape, through: nil)
        for (name, value) in zip(layers, resolved) {
            guard let shape = shapes[value], shape.rank == 4 else {
                let described = shapes[value].map { "\($0)" } ?? "unknown"
                throw VisualizationError.badLayer(
                    name, reason: "has no spatial extent (shape \(described)); class activation maps need an N×K×h×w activation")
            }
        }
        self.rule = rule
        self.layers = resolved
        executor = try GraphExecutor(graph: graph, backend: backend)
    }

    /// The default layer: the last value with spatial extent (N×K×h×w, h·w > 1) on the way to the output.
    public static func defaultLayer(graph: Graph, inputShape: TensorShape) throws -> String {
        let shapes = try graph.inferShapes(input: inputShape, through: nil)
        guard let node = graph.nodes.last(where: { shapes[$0.output].map { $0.rank == 4 && $0[2] * $0[3] > 1 } ?? false })
        else { throw VisualizationError.badSetting("the model has no layer with spatial extent; give --layer") }
        return node.output
    }

    /// Explains `input` (N×C×H×W, preprocessed) for `classes` (one per image; nil: each image's top class).
    /// - Throws: `VisualizationError.badSetting` for a class outside the model's outputs.
    public func explain(_ input: B.Tensor, classes requested: [Int]? = nil) throws -> ClassActivationMaps<B> {
        let output = try executor.forward(input)
        let scores = try backend.download(output)
        guard scores.shape.rank == 2 else {
            throw VisualizationError.badSetting("the model's output \(scores.shape) is not N×classes")
        }
        let (images, count) = (scores.shape[0], scores.shape[1])
        let classes = requested ?? (0..<images).map { image in
            let row = scores.values[image * count..<(image + 1) * count]
            return row.indices.max { row[$0] < row[$1] }.map { $0 - image * count } ?? 0
        }
        if let bad = classes.first(where: { !(0..<count).contains($0) }) {
            throw VisualizationError.badSetting("class \(bad) is outside the model's \(count) outputs (0–\(count - 1))")
        }
        var seed = HostTensor(zeros: scores.shape)
        for (image, target) in classes.enumerated() { seed.values[image * count + target] = 1 }
        let gradients = try executor.backward(from: executor.graph.outputs[0], seed: try backend.upload(seed), to: layers)

        let size = Array(input.shape.dimensions.suffix(2))
        let mapShape: TensorShape = [images, 1, size[0], size[1]]
        let total = try backend.makeTensor(mapShape)
        let resized = layers.count > 1 ? try backend.makeTensor(mapShape) : total
        for (index, layer) in layers.enumerated() {
            guard let gradient = gradients[layer] else {
                throw VisualizationError.badLayer(layer, reason: "receives no gradient from the output")
            }
            let layerMap = try map(activation: try executor.value(layer), gradient: gradient)
            try backend.minMaxNormalize(input: layerMap, output: layerMap)
            try backend.resizeBilinear(input: layerMap, output: index == 0 ? total : resized)
            if index > 0 { try backend.binaryForward(.add, total, resized, output: total) }
        }
        // pytorch-grad-cam averages the layers' maps and scales the result again (for one layer too).
        if layers.count > 1 {
            try backend.binaryForward(.mul, total, try backend.upload(HostTensor(shape: [1], values: [1 / Float(layers.count)])),
                                      output: total)
        }
        try backend.minMaxNormalize(input: total, output: total)
        return ClassActivationMaps(maps: total, classes: classes,
                                   scores: classes.enumerated().map { scores.values[$0 * count + $1] })
    }

    /// One layer's map N×1×h×w with ReLU, before normalization.
    private func map(activation: B.Tensor, gradient: B.Tensor) throws -> B.Tensor {
        let geometry = try CAMGeometry(activation: activation.shape)
        let map = try backend.makeTensor(geometry.mapShape)
        if rule.weighsChannels {
            let weights = try backend.makeTensor(geometry.weightShape)
            try backend.camChannelWeights(rule, activation: activation, gradient: gradient, weights: weights)
            try backend.camWeightedSum(activation: activation, weights: weights, output: map)
        } else {
            try backend.camPixelwiseSum(rule, activation: activation, gradient: gradient, output: map)
        }
        return map
    }
}
