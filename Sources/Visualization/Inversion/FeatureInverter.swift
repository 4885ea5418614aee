import Foundation
import ModelGraph
import TensorOps

/// Progress of an inversion, reported every few steps.
public struct FeatureInversionProgress: Sendable {
    public let step: Int
    public let steps: Int
    /// Each layer's relative distance ‖Φ(x) − Φ(x₀)‖ / ‖Φ(x₀)‖ at this step (as the jittered images score).
    public let distances: [Double]
}

/// What an inversion produced.
public struct FeatureInversionResult: Sendable {
    /// One reconstruction per layer, in [0, 1], N×C×S×S.
    public let images: HostTensor
    /// Each layer's relative distance on the untransformed reconstructions before the first step and after the last.
    public let initialDistances: [Double]
    public let finalDistances: [Double]
}

/// Mahendran & Vedaldi's feature inversion ("Understanding Deep Image Representations by Inverting Them", CVPR
/// 2015): the image x whose representation at a layer matches the input x₀'s, by minimizing
/// ‖Φ(x) − Φ(x₀)‖² / ‖Φ(x₀)‖² plus the α-norm and total-variation priors (`NaturalImagePrior`). One image per
/// layer, all optimized as one batch on the backend with the filter engine's parameterization and optimizer; a
/// single backward pass carries every layer's seed (each zero outside its own image).
public final class FeatureInverter<B: Backend> {
    public let settings: FeatureInversionSettings
    private let executor: GraphExecutor<B>
    private var backend: B { executor.backend }
    /// The layers' value names, the one the forward pass runs through (nil: the whole model, when the layers lie
    /// on different branches), and per layer the input's representation (1×…, on the backend and its values on the
    /// host), its squared norm and the seed's per-image factor (N×1×…: −2/‖Φ(x₀)‖² on the layer's own image, 0
    /// elsewhere) and buffers.
    private let layers: [String]
    private let forwardTarget: String?
    private let targets: [(representation: B.Tensor, values: [Float], squaredNorm: Double, factor: B.Tensor, difference: B.Tensor,
                            seed: B.Tensor)]
    private let parameterization: ImageParameterization<B>
    private var random: SeededGenerator
    private let transforms: RandomTransforms
    private let normalizeScale: B.Tensor, normalizeShift: B.Tensor, center: B.Tensor
    private let maps: B.Tensor, transformed: B.Tensor, normalized: B.Tensor, gradTransformed: B.Tensor, gradImage: B.Tensor

    /// Computes the input's representations and allocates the run's buffers on `backend`.
    /// - Parameter input: the image to invert, 1×C×S×S, preprocessed as the model expects.
    /// - Throws: `ModelError.noSuchLayer` (with the nearest names), `VisualizationError` for bad settings, a
    ///   non-square input, a layer whose representation of the input is all zero, or a run larger than the device.
    public init(graph: Graph, backend: B, settings: FeatureInversionSettings, input: HostTensor) throws {
        try settings.validate()
        let s = settings.image
        guard input.shape.rank == 4, input.shape[0] == 1, input.shape[1] == s.imageChannels,
              input.shape[2] == s.size, input.shape[3] == s.size else {
            throw VisualizationError.badSetting("inversion needs one square \(s.imageChannels)-channel image of \(s.size) px, got \(input.shape)")
        }
        self.settings = settings
        let layers = try settings.layers.map { try graph.resolve($0) }
        self.layers = layers
        if let repeated = layers.enumerated().first(where: { layers[..<$0.offset].contains($0.element) }) {
            throw VisualizationError.badSetting("layer '\(settings.layers[repeated.offset])' is given twice")
        }
        let imageShape: TensorShape = [layers.count, s.imageChannels, s.size, s.size]
        let order = Dictionary(uniqueKeysWithValues: graph.nodes.enumerated().map { ($1.output, $0) })
        let last = layers.max { (order[$0] ?? -1) < (order[$1] ?? -1) } ?? layers[0]
        let ancestors = graph.ancestors(of: last)
        forwardTarget = layers.allSatisfy(ancestors.contains) ? last : nil
        let shapes = try FilterVisualizer<B>.checkedShapes(graph: graph, layer: forwardTarget ?? graph.outputs[0],
                                                           settings: s, imageShape: imageShape)
        try FilterVisualizer<B>.checkMemory(shapes: shapes, needed: forwardTarget.map(graph.ancestors) ?? Set(shapes.keys),
                                            backend: backend, imageShape: imageShape)

        executor = try GraphExecutor(graph: graph, backend: backend)
        executor.foldsEpilogues = []  // every layer's value is read and differentiated
        try Self.forward(executor, try backend.upload(input), through: forwardTarget)
        var targets: [(B.Tensor, [Float], Double, B.Tensor, B.Tensor, B.Tensor)] = []
        for (index, layer) in layers.enumerated() {
            let representation = try backend.download(try executor.value(layer))
            try executor.requireFinite(representation)
            let squaredNorm = representation.values.reduce(0.0) { $0 + Double($1) * Double($1) }
            guard squaredNorm > 0 else {
                throw VisualizationError.badLayer(settings.layers[index], reason: "is all zero for this image; there is nothing to match")
            }
            let batchShape = TensorShape([layers.count] + representation.shape.dimensions.dropFirst())
            var factor = [Float](repeating: 0, count: layers.count)
            factor[index] = Float(-2 / squaredNorm)  // ascent: the optimizer moves along −∂E/∂x
            targets.append((try backend.upload(representation), representation.values, squaredNorm,
                            try backend.upload(HostTensor(shape: TensorShape([layers.count] + Array(repeating: 1, count: batchShape.rank - 1)),
                                                          values: factor)),
                            try backend.makeTensor(batchShape), try backend.makeTensor(batchShape)))
        }
        self.targets = targets

        random = SeededGenerator(seed: s.seed)
        transforms = RandomTransforms(jitter: s.jitter, scaleRange: 1...1, rotation: 0)
        parameterization = try ImageParameterization(backend: backend, settings: s, imageShape: imageShape, start: nil,
                                                     random: &random)
        normalizeScale = try backend.upload(HostTensor(shape: [s.imageChannels], values: s.std.map { 1 / $0 }))
        normalizeShift = try backend.upload(HostTensor(shape: [s.imageChannels], values: zip(s.mean, s.std).map { -$0 / $1 }))
        center = try backend.upload(HostTensor(shape: [s.imageChannels], values: s.startColour))
        maps = try backend.makeTensor([layers.count, 6])
        transformed = try backend.makeTensor(imageShape)
        normalized = try backend.makeTensor(imageShape)
        gradTransformed = try backend.makeTensor(imageShape)
        gradImage = try backend.makeTensor(imageShape)
    }

    /// Runs every step, calling `progress` about every `reportInterval` steps and after the last.
    /// - Throws: `VisualizationError.nonFinite` naming the step and layer's image when a distance stops being finite.
    public func run(reportInterval: Int = 25, progress: (FeatureInversionProgress) -> Void = { _ in }) throws
        -> FeatureInversionResult
    {
        let steps = settings.image.steps
        let initial = try wholeImageDistances()
        try checkFinite(initial, step: 0)
        for step in 1...steps {
            try self.step(step)
            if step % reportInterval == 0 || step == steps {
                let values = try currentDistances()
                try checkFinite(values, step: step)
                progress(FeatureInversionProgress(step: step, steps: steps, distances: values))
            }
        }
        let final = try wholeImageDistances()
        try checkFinite(final, step: steps)
        return FeatureInversionResult(images: try backend.download(parameterization.image), initialDistances: initial,
                                      finalDistances: final)
    }

    private func step(_ step: Int) throws {
        try parameterization.render()
        let draw = transforms.isIdentity ? nil : transforms.draw(count: layers.count, random: &random)
        if let draw {
            try backend.write(HostTensor(shape: maps.shape, values: draw.flatMap(\.values)), into: maps)
            try backend.affineResampleForward(input: parameterization.image, maps: maps, output: transformed, fill: 0.5)
        }
        try backend.channelAffineForward(input: draw == nil ? parameterization.image : transformed, scale: normalizeScale,
                                         shift: normalizeShift, output: normalized)
        try Self.forward(executor, normalized, through: forwardTarget)
        var seeds: [(value: String, gradient: B.Tensor)] = []
        for (layer, target) in zip(layers, targets) {
            try backend.binaryForward(.sub, try executor.value(layer), target.representation, output: target.difference)
            try backend.binaryForward(.mul, target.difference, target.factor, output: target.seed)
            seeds.append((layer, target.seed))
        }
        let input = executor.graph.input.name
        guard let gradNormalized = try executor.backward(seeds: seeds, to: [input])[input] else {
            throw VisualizationError.badSetting("no gradient reached the input")
        }
        try backend.channelAffineBackward(gradOutput: gradNormalized, scale: normalizeScale,
                                          gradInput: draw == nil ? gradImage : gradTransformed)
        if let draw {
            try backend.affineResampleBackward(gradOutput: gradTransformed, maps: maps, gradInput: gradImage,
                                               reach: draw.map(\.reach).max() ?? 1)
        }
        try backend.naturalPriorBackward(image: parameterization.image, center: center, gradient: gradImage, output: gradImage,
                                         prior: settings.prior)
        try parameterization.backward(gradImage)
        try parameterization.ascend(step: step, optimizer: settings.image.optimizer, learningRate: settings.image.learningRate)
    }

    /// Runs the executor to `target`, or through the whole model when the layers need more than one branch.
    private static func forward(_ executor: GraphExecutor<B>, _ input: B.Tensor, through target: String?) throws {
        if let target { try executor.forward(input, through: target) } else { try executor.forward(input) }
    }

    /// Each layer's relative distance on its own image, from the last forward pass.
    private func currentDistances() throws -> [Double] {
        try zip(layers, targets).enumerated().map { index, pair in
            let (layer, target) = pair
            let value = try backend.download(try executor.value(layer))
            let size = target.values.count
            let own = value.values[(index * size)..<((index + 1) * size)]
            let squared = zip(own, target.values).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            return (squared / target.squaredNorm).squareRoot()
        }
    }

    /// The distances of the current images as they are (no jitter): the pictures as they will be saved.
    private func wholeImageDistances() throws -> [Double] {
        try parameterization.render()
        try backend.channelAffineForward(input: parameterization.image, scale: normalizeScale, shift: normalizeShift,
                                         output: normalized)
        try Self.forward(executor, normalized, through: forwardTarget)
        return try currentDistances()
    }

    private func checkFinite(_ values: [Double], step: Int) throws {
        guard let index = values.firstIndex(where: { !$0.isFinite }) else { return }
        let reason = try executor.nonFiniteModelNode() ?? "lower --lr"
        throw VisualizationError.badSetting(
            "the distance to layer '\(settings.layers[index])' became NaN or infinite by step \(step); \(reason)")
    }
}
