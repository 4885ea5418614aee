import ModelGraph
import TensorOps

/// What one explanation produced, still on the backend: maps N×1×H×W in [0, 1] at the input's size.
public struct ClassActivationMaps<B: Backend> {
    public let maps: B.Tensor
    /// The class each map explains, per image.
    public let classes: [Int]
    /// Each image's score (the model's output) for that class.
    public let scores: [Float]
}

/// Class activation maps over the backend's buffers with pytorch-grad-cam's semantics, so results compare one to
/// one: forward; for the gradient methods the class score's gradient back to each layer; each layer's map with
/// ReLU, per-image min-max normalization and bilinear resize (half-pixel centres) to the input size; several layers
/// averaged and normalized once more. Only the class scores come back to the host (to pick the top class, and for
/// the Score-CAM family's and Ablation-CAM's channel scores), and for Ablation-CAM the layer's activation (for its minimum).
public final class ClassActivationMapper<B: Backend> {
    /// pytorch-grad-cam's `scale_cam_image`: (x − min) / (max − min + 1e−7).
    static var scaleEpsilon: Float { 1e-7 }

    public let method: CAMMethod
    public let layers: [String]
    /// How each layer's activation is viewed as N×K×h×w (tokens of a transformer are laid out on their grid).
    public let layouts: [String: ActivationLayout]
    /// Score-CAM, SS-CAM, IS-CAM: masked images per batched forward; Ablation-CAM: ablated copies of the layer per
    /// partial forward.
    public var batch = 16
    /// SS-CAM's, IS-CAM's and Smooth Grad-CAM++'s samples, noise and seed.
    public var sampling = CAMSampling()
    /// Finer-CAM's comparison with the most similar classes.
    public var finerTarget = FinerCAMTarget()
    let executor: GraphExecutor<B>
    var backend: B { executor.backend }
    private let head: CAMHead?
    /// FullGrad's layers (output value and bias, N×K×h×w and 1×K×1×1); empty for the other methods.
    private(set) var fullGradBiases: [(value: String, bias: HostTensor)] = []
    /// The layers to give another mapper for the same explanation (FullGrad finds its own).
    var requestedLayers: [String] { method == .fullGrad ? [] : layers }

    /// - Parameters:
    ///   - layers: value or node names; empty: the default (the head's pooled layer for `.cam`, else the last layer
    ///     with spatial extent).
    ///   - layout: how the layers lay out positions (`ActivationLayout.resolve`); `grid` the token grid when it is
    ///     not square.
    /// - Throws: `ModelError.noSuchLayer` with the nearest names; `VisualizationError` for a layer without spatial
    ///   extent, or `.cam` on a model without a global-average-pool + linear head (saying why).
    public init(graph: Graph, backend: B, layers requested: [String], method: CAMMethod, inputShape: TensorShape,
                layout: ActivationLayout.Choice = .auto, grid: (height: Int, width: Int)? = nil) throws {
        head = method == .cam ? try CAMHead(graph: graph) : nil
        if method == .fullGrad {
            guard requested.isEmpty else {
                throw VisualizationError.badSetting("--method fullgrad reads every layer with a bias and the input; it takes no --layer")
            }
            fullGradBiases = try FullGradLayers(graph: graph, inputShape: inputShape).layers
            self.method = method
            (layers, layouts) = (fullGradBiases.map(\.value), [:])
            executor = try GraphExecutor(graph: graph, backend: backend)
            executor.foldsEpilogues = Set(layers)  // the gradients at the layers' own outputs, before any activation
            return
        }
        let names = requested.isEmpty
            ? [try head?.layer ?? Self.defaultLayer(graph: graph, inputShape: inputShape)] : requested
        let resolved = try names.map { try graph.resolve($0) }
        let shapes = try graph.inferShapes(input: inputShape, through: nil)
        var layouts: [String: ActivationLayout] = [:]
        for (name, value) in zip(names, resolved) {
            guard let shape = shapes[value], shape.rank == 4 || shape.rank == 3 else {
                let described = shapes[value].map { "\($0)" } ?? "unknown"
                throw VisualizationError.badLayer(
                    name, reason: "has no spatial extent (shape \(described)); class activation maps need an N×K×h×w "
                        + "activation (or transformer tokens N×T×K)")
            }
            layouts[value] = try ActivationLayout.resolve(layout, grid: grid, shape: shape, layer: name)
            if let head, value != head.layer {
                throw VisualizationError.badLayer(name, reason: "is not the global average pool's input '\(head.layer)', the only layer --method cam can map")
            }
        }
        self.method = method
        layers = resolved
        self.layouts = layouts
        executor = try GraphExecutor(graph: graph, backend: backend)
        // Only the layers and their gradients are read. Ablation-CAM's partial forwards read values around the layer
        // from the full pass, so that pass keeps them all.
        executor.foldsEpilogues = method == .ablationCAM ? nil : Set(resolved)
    }

    /// The model's output (N×classes) for `input`, for choosing classes to explain.
    public func scores(_ input: B.Tensor) throws -> HostTensor { try backend.download(try executor.forwardOutput(input)) }

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
        let scores = try backend.download(try executor.forward(input))
        try executor.requireFinite(scores)  // names the node that made a score NaN or infinite
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
        let layerMaps = method == .fullGrad
            ? [try fullGradMap(input: input, classes: classes, scores: scores)]
            : try layers.map { try map(of: $0, input: input, classes: classes, scores: scores) }

        let size = Array(input.shape.dimensions.suffix(2))
        let mapShape: TensorShape = [images, 1, size[0], size[1]]
        let total = try backend.makeTensor(mapShape)
        let resized = layerMaps.count > 1 ? try backend.makeTensor(mapShape) : total
        for (index, layerMap) in layerMaps.enumerated() {
            try backend.minMaxNormalize(input: layerMap, output: layerMap, epsilon: Self.scaleEpsilon)
            try backend.resizeForward(input: layerMap, output: index == 0 ? total : resized, mode: .bilinear(alignCorners: false))
            if index > 0 { try backend.binaryForward(.add, total, resized, output: total) }
        }
        // pytorch-grad-cam averages the layers' maps and scales the result again (for one layer too).
        if layerMaps.count > 1 {
            try backend.binaryForward(.mul, total, try backend.upload(HostTensor(shape: [1], values: [1 / Float(layerMaps.count)])),
                                      output: total)
        }
        try backend.minMaxNormalize(input: total, output: total, epsilon: Self.scaleEpsilon)
        return ClassActivationMaps(maps: total, classes: classes,
                                   scores: classes.enumerated().map { scores.values[$0 * count + $1] })
    }

    /// One layer's map N×1×h×w with ReLU, before normalization, right after the forward pass of `input`.
    private func map(of layer: String, input: B.Tensor, classes: [Int], scores: HostTensor) throws -> B.Tensor {
        let activation = try spatialActivation(layer)
        let geometry = try CAMGeometry(activation: activation.shape)
        let map = try backend.makeTensor(geometry.mapShape)
        switch method {
        case .gradCAM, .finerCAM, .gradCAMPlusPlus, .xGradCAM, .layerCAM, .hiResCAM:
            let rule = method.gradientRule ?? .gradCAM
            let gradient = try gradientOfScores(at: layer, classes: classes, scores: scores)
            if rule.weighsChannels {
                let weights = try backend.makeTensor(geometry.weightShape)
                try backend.camChannelWeights(rule, activation: activation, gradient: gradient, weights: weights)
                try backend.camWeightedSum(activation: activation, weights: weights, output: map)
            } else {
                try backend.camPixelwiseSum(rule, activation: activation, gradient: gradient, output: map)
            }
        case .cam:
            let weight = head?.weight ?? HostTensor(zeros: [0, 0])
            let rows = classes.flatMap { weight.values[$0 * weight.shape[1]..<($0 + 1) * weight.shape[1]] }
            try backend.camWeightedSum(activation: activation, weights: try backend.upload(HostTensor(shape: geometry.weightShape, values: rows)),
                                       output: map)
        case .scoreCAM:
            let weights = try scoreCAMWeights(layer: layer, input: input, classes: classes, geometry: geometry)
            try backend.camWeightedSum(activation: try spatialActivation(layer), weights: weights, output: map)
        case .smoothGradCAMPlusPlus:
            let (weights, lastActivation) = try smoothGradCAMPlusPlusWeights(layer: layer, input: input, classes: classes,
                                                                            scores: scores)
            try backend.camWeightedSum(activation: lastActivation, weights: weights, output: map)
        case .ssCAM, .isCAM:
            let weights = try sampledScoreCAMWeights(layer: layer, input: input, classes: classes, scores: scores,
                                                     geometry: geometry)
            try backend.camWeightedSum(activation: try spatialActivation(layer), weights: weights, output: map)
        case .fullGrad:
            throw VisualizationError.badSetting("FullGrad has no per-layer map")  // explain calls fullGradMap
        case .ablationCAM:
            let weights = try ablationCAMWeights(layer: layer, classes: classes, scores: scores)
            try backend.camWeightedSum(activation: activation, weights: weights, output: map)
        case .eigenCAM:
            try backend.camPrincipalProjection(activation: activation, output: map)
        }
        return map
    }

    /// The layer's activation from the last forward pass, as N×K×h×w.
    func spatialActivation(_ layer: String) throws -> B.Tensor {
        try (layouts[layer] ?? .nchw).spatial(try executor.value(layer), on: backend)
    }

    /// ∂(Σ_n target_n)/∂ each output: one-hot rows at the classes (the score of class_n), or Finer-CAM's ∂T/∂s.
    func targetSeed(scores: HostTensor, classes: [Int]) -> HostTensor {
        var seed = HostTensor(zeros: scores.shape)
        let count = scores.shape[1]
        for (image, target) in classes.enumerated() {
            if method == .finerCAM {
                let row = finerTarget.gradient(Array(scores.values[image * count..<(image + 1) * count]), target: target)
                seed.values.replaceSubrange(image * count..<(image + 1) * count, with: row)
            } else {
                seed.values[image * count + target] = 1
            }
        }
        return seed
    }

    /// ∂(Σ_n target_n)/∂layer (`targetSeed`), from the last forward pass, as N×K×h×w.
    func gradientOfScores(at layer: String, classes: [Int], scores: HostTensor) throws -> B.Tensor {
        let seed = targetSeed(scores: scores, classes: classes)
        let gradients = try executor.backward(from: executor.graph.outputs[0], seed: try backend.upload(seed), to: [layer])
        guard let gradient = gradients[layer] else {
            throw VisualizationError.badLayer(layer, reason: "receives no gradient from the output")
        }
        return try (layouts[layer] ?? .nchw).spatial(gradient, on: backend)
    }
}
