import Foundation
import ModelGraph
import TensorOps

/// One octave of a filter-visualization run: batched gradient ascent at one image size, one image per channel, all
/// optimized together on the backend.
///
/// Each step: parameterization → image → random transform (MaCo: K random crops of each image, plus noise) →
/// normalization → forward to the layer → the objective's constant seed gradient → backward to the input → back
/// through normalization, transform and parameterization (MaCo: |∂objective/∂image| added to the transparency map)
/// → image regularizers → optimizer update. Nothing is read back inside a step except the layer's activation when
/// progress is reported.
final class FilterVisualizationStage<B: Backend> {
    let settings: FilterVisualizationSettings
    private let backend: B
    private let executor: GraphExecutor<B>
    private let layer: String
    /// The objective of each whole image, and of each image the network sees in a step (MaCo: every crop, its
    /// image's channel repeated, averaged over the crops by the seed's 1/K).
    private let objective: FilterObjective, stepObjective: FilterObjective
    private let parameterization: ImageParameterization<B>
    private let transforms: RandomTransforms
    private let crops: MacoCrops?
    private var random: SeededGenerator
    private let imageShape: TensorShape
    private let seed: B.Tensor
    private let normalizeScale: B.Tensor, normalizeShift: B.Tensor
    private let maps: B.Tensor
    private let transformed: B.Tensor, normalized: B.Tensor, gradTransformed: B.Tensor, gradImage: B.Tensor
    /// The whole images normalized (the step's `normalized` unless MaCo's crops differ from them).
    private let wholeNormalized: B.Tensor
    /// MaCo: the crops' noise, drawn each step, and the transparency map.
    private let noise: B.Tensor?, transparency: B.Tensor?
    /// With a diversity term the seed changes every step: the objective's seed minus the diversity gradient.
    private let diversity: (seed: B.Tensor, scratch: B.Tensor)?

    /// Allocates one octave's buffers on the executor's backend. `settings.size` is this octave's size (checked by
    /// `FilterVisualizer`); `start`, when given, is the parameter to begin from, else seeded noise.
    /// `layerShape` is the layer's shape for a step's network input (`settings.stepInputShape`).
    init(executor: GraphExecutor<B>, layer: String, layerShape: TensorShape, settings: FilterVisualizationSettings,
         start: HostTensor?, random: SeededGenerator) throws {
        self.settings = settings
        self.executor = executor
        self.layer = layer
        backend = executor.backend
        let channelCount = settings.imageChannels
        imageShape = [settings.channels.count, channelCount, settings.size, settings.size]
        let stepShape = settings.stepInputShape, copies = settings.stepCopies
        self.random = random
        objective = FilterObjective(kind: settings.objective, channels: settings.channels, negative: settings.negative)
        stepObjective = FilterObjective(kind: settings.objective,
                                        channels: settings.channels.flatMap { repeatElement($0, count: copies) },
                                        negative: settings.negative)
        transforms = RandomTransforms(jitter: settings.jitter, scaleRange: settings.scaleRange, rotation: settings.rotation)
        crops = settings.parameterization == .maco
            ? MacoCrops(settings: settings.maco, imageSize: settings.size, cropSize: stepShape[2], steps: settings.steps)
            : nil
        parameterization = try ImageParameterization(backend: backend, settings: settings, imageShape: imageShape,
                                                     start: start, random: &self.random)
        let stepSeed = stepObjective.seed(shape: layerShape)
        seed = try backend.upload(HostTensor(shape: stepSeed.shape, values: stepSeed.values.map { $0 / Float(copies) }))
        normalizeScale = try backend.upload(HostTensor(shape: [channelCount], values: settings.std.map { 1 / $0 }))
        normalizeShift = try backend.upload(
            HostTensor(shape: [channelCount], values: zip(settings.mean, settings.std).map { -$0 / $1 }))
        maps = try backend.makeTensor([stepShape[0], 6])
        transformed = try backend.makeTensor(stepShape)
        normalized = try backend.makeTensor(stepShape)
        wholeNormalized = stepShape == imageShape ? normalized : try backend.makeTensor(imageShape)
        gradTransformed = try backend.makeTensor(stepShape)
        gradImage = try backend.makeTensor(imageShape)
        noise = crops != nil && settings.maco.noise > 0 ? try backend.makeTensor(stepShape) : nil
        transparency = crops != nil ? try backend.makeTensor(imageShape) : nil
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

    /// Runs this octave's steps, numbered from `firstStep` in progress reports and errors, calling `progress` about
    /// every `reportInterval` steps and after the last, with the images every `imageInterval` steps and at the end.
    /// - Throws: `VisualizationError.nonFinite` naming the step and channel when the objective stops being finite.
    func run(firstStep: Int, totalSteps: Int, reportInterval: Int, imageInterval: Int?,
             progress: (FilterVisualizationProgress) throws -> Void) throws -> FilterVisualizationResult
    {
        let initial = try objectives()
        try checkFinite(initial, step: firstStep - 1)
        for step in 1...settings.steps {
            try self.step(step)
            let global = firstStep + step - 1
            if step % reportInterval == 0 || step == settings.steps {
                let values = imageMeans(stepObjective.values(of: try backend.download(try executor.value(layer))))
                try checkFinite(values, step: global)
                // The image the step started from: the one the objective just reported was measured on.
                let wantsImages = imageInterval.map { global % $0 == 0 || global == totalSteps } ?? false
                try progress(FilterVisualizationProgress(
                    step: global, steps: totalSteps, objective: values.reduce(0, +) / Double(values.count),
                    objectives: values, images: wantsImages ? try backend.download(parameterization.image) : nil))
            }
        }
        let final = try objectives()
        try checkFinite(final, step: firstStep + settings.steps - 1)
        return FilterVisualizationResult(
            images: try backend.download(parameterization.image), networkInputs: try backend.download(wholeNormalized),
            initialObjectives: initial, finalObjectives: final, transparency: try transparency.map { try backend.download($0) })
    }

    private func step(_ step: Int) throws {
        try parameterization.render()
        let draw = crops?.draw(step: step, images: imageShape[0], random: &random)
            ?? transforms.draw(count: imageShape[0], random: &random)
        try backend.write(HostTensor(shape: maps.shape, values: draw.flatMap(\.values)), into: maps)
        try backend.affineResampleForward(input: parameterization.image, maps: maps, output: transformed, fill: 0.5)
        if let noise, let crops {
            try backend.write(crops.noise(shape: noise.shape, random: &random), into: noise)
            try backend.binaryForward(.add, transformed, noise, output: transformed)
        }
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
        if let transparency { try backend.accumulateAbsolute(gradImage, into: transparency) }
        if settings.l2 != 0 || settings.tv != 0 {
            try backend.imagePenaltyBackward(image: parameterization.image, gradient: gradImage, output: gradImage,
                                             l2: settings.l2, tv: settings.tv)
        }
        try parameterization.backward(gradImage)
        try parameterization.ascend(step: step, optimizer: settings.optimizer, learningRate: settings.learningRate)
        if let every = settings.blurEvery, step % every == 0 {
            try parameterization.blur(sigma: settings.blurSigma)
        }
    }

    /// Each image's objective on the current images, untransformed (the picture as it will be saved).
    private func objectives() throws -> [Double] {
        try parameterization.render()
        try backend.channelAffineForward(input: parameterization.image, scale: normalizeScale, shift: normalizeShift,
                                         output: wholeNormalized)
        return objective.values(of: try backend.download(try executor.forward(wholeNormalized, through: layer)))
    }

    /// Per-image means of values per network input (MaCo: over each image's crops).
    private func imageMeans(_ values: [Double]) -> [Double] {
        let copies = settings.stepCopies
        return stride(from: 0, to: values.count, by: copies).map { values[$0..<($0 + copies)].reduce(0, +) / Double(copies) }
    }

    /// Stops the run at a non-finite objective, blaming the model when a node turned finite inputs into NaN or ∞
    /// in the forward pass just run, and the step size when the image itself is no longer finite.
    private func checkFinite(_ values: [Double], step: Int) throws {
        guard let index = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw VisualizationError.nonFinite(step: step, channel: settings.channels[index],
                                           cause: try executor.nonFiniteModelNode())
    }
}
