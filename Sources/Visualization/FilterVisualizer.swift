import Foundation
import ModelGraph
import TensorOps

/// Progress of a run, reported every few steps.
public struct FilterVisualizationProgress: Sendable {
    public let step: Int
    public let steps: Int
    /// The mean objective over the batch at this step (as the transformed images score).
    public let objective: Double
}

/// What a run produced.
public struct FilterVisualizationResult: Sendable {
    /// The optimized images in [0, 1], N×C×S×S.
    public let images: HostTensor
    /// The same images normalized as the network sees them, N×C×S×S.
    public let networkInputs: HostTensor
    /// Each image's objective on the untransformed image before the first step and after the last.
    public let initialObjectives: [Double]
    public let finalObjectives: [Double]
}

/// Batched gradient ascent on the input: one image per channel, all optimized together on the backend.
///
/// Each step: parameterization → image → random transform → normalization → forward to the layer → the
/// objective's constant seed gradient → backward to the input → back through normalization, transform and
/// parameterization → image regularizers → optimizer update. Nothing is read back inside a step except the
/// layer's activation when progress is reported.
public final class FilterVisualizer<B: Backend> {
    public let settings: FilterVisualizationSettings
    private let backend: B
    private let executor: GraphExecutor<B>
    private let layer: String
    private let objective: FilterObjective
    private let parameterization: ImageParameterization<B>
    private let transforms: RandomTransforms
    private var random: SeededGenerator
    private let imageShape: TensorShape
    private let seed: B.Tensor
    private let normalizeScale: B.Tensor, normalizeShift: B.Tensor
    private let maps: B.Tensor
    private let transformed: B.Tensor, normalized: B.Tensor, gradTransformed: B.Tensor, gradImage: B.Tensor
    private let moments: (first: B.Tensor, second: B.Tensor)
    /// With a diversity term the seed changes every step: the objective's seed minus the diversity gradient.
    private let diversity: (seed: B.Tensor, scratch: B.Tensor)?

    /// Checks the settings against the model and allocates everything on `backend`.
    /// - Throws: `ModelError.noSuchLayer` (with the nearest names), `VisualizationError` for channels out of range,
    ///   a size below the layer's receptive field, a run larger than the device's memory, or bad settings.
    public init(graph: Graph, backend: B, settings: FilterVisualizationSettings) throws {
        try Self.validate(settings)
        self.settings = settings
        self.backend = backend
        layer = try graph.resolve(settings.layer)
        let channelCount = settings.imageChannels
        imageShape = [settings.channels.count, channelCount, settings.size, settings.size]
        let shapes = try Self.checkedShapes(graph: graph, layer: layer, settings: settings, imageShape: imageShape)
        let layerShape = shapes[layer] ?? imageShape
        try FilterObjective.requireChannels(settings.channels, layer: settings.layer, shape: layerShape, kind: settings.objective)
        try Self.checkMemory(shapes: shapes, needed: graph.ancestors(of: layer), backend: backend, imageShape: imageShape)

        objective = FilterObjective(kind: settings.objective, channels: settings.channels, negative: settings.negative)
        transforms = RandomTransforms(jitter: settings.jitter, scaleRange: settings.scaleRange, rotation: settings.rotation)
        random = SeededGenerator(seed: settings.seed)
        executor = try GraphExecutor(graph: graph, backend: backend)
        parameterization = try ImageParameterization(backend: backend, settings: settings, imageShape: imageShape,
                                                     random: &random)
        seed = try backend.upload(objective.seed(shape: layerShape))
        normalizeScale = try backend.upload(HostTensor(shape: [channelCount], values: settings.std.map { 1 / $0 }))
        normalizeShift = try backend.upload(
            HostTensor(shape: [channelCount], values: zip(settings.mean, settings.std).map { -$0 / $1 }))
        maps = try backend.makeTensor([imageShape[0], 6])
        transformed = try backend.makeTensor(imageShape)
        normalized = try backend.makeTensor(imageShape)
        gradTransformed = try backend.makeTensor(imageShape)
        gradImage = try backend.makeTensor(imageShape)
        let parameterShape = parameterization.parameter.shape
        moments = (try backend.makeTensor(parameterShape), try backend.makeTensor(parameterShape))
        if settings.diversity > 0 {
            guard layerShape.rank == 4 else {
                throw VisualizationError.badLayer(settings.layer, reason: "has no spatial extent for --diversity")
            }
            diversity = (try backend.makeTensor(layerShape),
                         try backend.makeTensor(try DiversityGeometry(activation: layerShape).scratchShape))
        } else {
            diversity = nil
        }
    }

    /// Runs every step, calling `progress` about every `reportInterval` steps and after the last.
    /// - Throws: `VisualizationError.nonFinite` naming the step and channel when the objective stops being finite.
    public func run(reportInterval: Int = 16, progress: (FilterVisualizationProgress) -> Void = { _ in })
        throws -> FilterVisualizationResult
    {
        let initial = try objectives()
        try checkFinite(initial, step: 0)
        for step in 1...settings.steps {
            try self.step(step)
            if step % reportInterval == 0 || step == settings.steps {
                let values = objective.values(of: try backend.download(try executor.value(layer)))
                try checkFinite(values, step: step)
                progress(FilterVisualizationProgress(step: step, steps: settings.steps,
                                                     objective: values.reduce(0, +) / Double(values.count)))
            }
        }
        let final = try objectives()
        try checkFinite(final, step: settings.steps)
        return FilterVisualizationResult(
            images: try backend.download(parameterization.image), networkInputs: try backend.download(normalized),
            initialObjectives: initial, finalObjectives: final)
    }

    private func step(_ step: Int) throws {
        try parameterization.render()
        let draw = transforms.draw(count: imageShape[0], random: &random)
        try backend.write(HostTensor(shape: maps.shape, values: draw.flatMap(\.values)), into: maps)
        try backend.affineResampleForward(input: parameterization.image, maps: maps, output: transformed, fill: 0.5)
        try backend.channelAffineForward(input: transformed, scale: normalizeScale, shift: normalizeShift, output: normalized)
        let activation = try executor.forward(normalized, through: layer)
        var stepSeed = seed
        if let diversity {
            try backend.diversityBackward(activation: activation, gradient: seed, output: diversity.seed,
                                          weight: settings.diversity, scratch: diversity.scratch)
            stepSeed = diversity.seed
        }
        let input = executor.graph.input.name
        guard let gradNormalized = try executor.backward(from: layer, seed: stepSeed, to: [input])[input] else {
            throw VisualizationError.badSetting("no gradient reached the input")
        }
        try backend.channelAffineBackward(gradOutput: gradNormalized, scale: normalizeScale, gradInput: gradTransformed)
        try backend.affineResampleBackward(gradOutput: gradTransformed, maps: maps, gradInput: gradImage,
                                           reach: draw.map(\.reach).max() ?? 1)
        if settings.l2 != 0 || settings.tv != 0 {
            try backend.imagePenaltyBackward(image: parameterization.image, gradient: gradImage, output: gradImage,
                                             l2: settings.l2, tv: settings.tv)
        }
        try parameterization.backward(gradImage)
        switch settings.optimizer {
        case .adam:
            try backend.adamStep(parameter: parameterization.parameter, gradient: parameterization.gradParameter,
                                 firstMoment: moments.first, secondMoment: moments.second, step: step,
                                 AdamParameters(learningRate: settings.learningRate))
        case .sgd:
            try backend.sgdStep(parameter: parameterization.parameter, gradient: parameterization.gradParameter,
                                learningRate: settings.learningRate)
        }
        if let every = settings.blurEvery, step % every == 0 {
            try parameterization.blur(sigma: settings.blurSigma)
        }
    }

    /// Each image's objective on the current images, untransformed (the picture as it will be saved).
    private func objectives() throws -> [Double] {
        try parameterization.render()
        try backend.channelAffineForward(input: parameterization.image, scale: normalizeScale, shift: normalizeShift,
                                         output: normalized)
        return objective.values(of: try backend.download(try executor.forward(normalized, through: layer)))
    }

    private func checkFinite(_ values: [Double], step: Int) throws {
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw VisualizationError.nonFinite(step: step, channel: settings.channels[index])
        }
    }
}
