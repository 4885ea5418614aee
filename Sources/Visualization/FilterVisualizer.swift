import Foundation
import ModelGraph
import TensorOps

/// Progress of a run, reported every few steps.
public struct FilterVisualizationProgress: Sendable {
    public let step: Int
    public let steps: Int
    /// The mean objective over the batch at this step (as the transformed images score).
    public let objective: Double
    /// Each image's objective at this step (MaCo: the mean over its crops), in the order of the channels.
    public let objectives: [Double]
    /// The images in [0, 1] (N×C×S×S) at this step, when the run was asked for them here (`imageInterval`).
    public let images: HostTensor?
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
    /// MaCo's transparency: |∂objective/∂image| summed over the steps, N×C×S×S (nil for other parameterizations).
    public let transparency: HostTensor?
}

/// Batched gradient ascent on the input: one image per channel, all optimized together on the backend, at one
/// size or over several octaves (`FilterVisualizationStage` runs each).
public final class FilterVisualizer<B: Backend> {
    public let settings: FilterVisualizationSettings
    private let executor: GraphExecutor<B>
    private let layer: String
    /// The layer's shape for each octave's step input (`FilterVisualizationSettings.stepInputShape`).
    private let layerShapes: [TensorShape]
    /// One line per octave whose size is below the layer's theoretical receptive field (the run goes ahead).
    public let notes: [String]

    /// Checks the settings against the model at every octave's size and uploads the model to `backend`.
    /// - Throws: `ModelError.noSuchLayer` (with the nearest names), `VisualizationError` for channels out of range,
    ///   a size at which a node on the way to the layer has no positions, a run larger than the device's memory, or
    ///   bad settings.
    public init(graph: Graph, backend: B, settings: FilterVisualizationSettings) throws {
        try settings.validate()
        self.settings = settings
        let layer = try graph.resolve(settings.layer)
        let ancestors = graph.ancestors(of: layer)
        self.layer = layer
        layerShapes = try settings.octaveSizes.map { size in
            let octave = settings.resized(to: size)
            // Checked as each step runs it (MaCo: every crop of every image) and as the objective of the whole
            // images is measured.
            let wholeImages: TensorShape = [settings.channels.count, settings.imageChannels, size, size]
            return try [octave.stepInputShape, wholeImages].map { imageShape in
                let shapes = try Self.checkedShapes(graph: graph, layer: layer, settings: octave, imageShape: imageShape)
                let layerShape = shapes[layer] ?? imageShape
                try FilterObjective.requireChannels(settings.channels, layer: settings.layer, shape: layerShape,
                                                    kind: settings.objective)
                try Self.checkMemory(shapes: shapes, needed: ancestors, backend: backend, imageShape: imageShape)
                return layerShape
            }[0]
        }
        notes = settings.octaveSizes.compactMap {
            Self.receptiveFieldNote(graph: graph, layer: layer, name: settings.layer,
                                    size: settings.resized(to: $0).stepInputShape[2])
        }
        executor = try GraphExecutor(graph: graph, backend: backend)
    }

    /// Runs every octave's steps, calling `progress` about every `reportInterval` steps and after the last, with
    /// steps counted across octaves; every `imageInterval` steps (and after the last) the report carries the images.
    /// - Throws: `VisualizationError.nonFinite` naming the step and channel when the objective stops being finite.
    public func run(reportInterval: Int = 16, imageInterval: Int? = nil,
                    progress: (FilterVisualizationProgress) throws -> Void = { _ in }) throws -> FilterVisualizationResult
    {
        let sizes = settings.octaveSizes
        var start: HostTensor?
        var initial: [Double] = []
        var result: FilterVisualizationResult?
        for (octave, size) in sizes.enumerated() {
            // Octave 0 draws from the run's seed, so a one-octave run is the plain seeded run; later octaves draw
            // their transforms from seeds derived from it.
            let random = SeededGenerator(seed: settings.seed &+ UInt64(octave) &* 0x9E37_79B9_7F4A_7C15)
            let stage = try FilterVisualizationStage(
                executor: executor, layer: layer, layerShape: layerShapes[octave], settings: settings.resized(to: size),
                start: start, random: random)
            let octaveResult = try stage.run(firstStep: octave * settings.steps + 1, totalSteps: sizes.count * settings.steps,
                                             reportInterval: reportInterval, imageInterval: imageInterval, progress: progress)
            if octave == 0 { initial = octaveResult.initialObjectives }
            if octave + 1 < sizes.count {
                start = OctaveTransfer.parameter(for: octaveResult.images, size: sizes[octave + 1], settings: settings)
            }
            result = octaveResult
        }
        guard let result else { throw VisualizationError.badSetting("no octave to run") }
        return FilterVisualizationResult(images: result.images, networkInputs: result.networkInputs,
                                         initialObjectives: initial, finalObjectives: result.finalObjectives,
                                         transparency: result.transparency)
    }
}

extension FilterVisualizationResult {
    /// MaCo's transparency maps as xplique's `plot_maco` shows them: per image the mean over channels of the summed
    /// |∂objective/∂image|, clipped at its 80th percentile and divided by its largest value, N×1×S×S in [0, 1].
    public var transparencyMaps: HostTensor? {
        guard let transparency else { return nil }
        let (count, channels) = (transparency.shape[0], transparency.shape[1])
        let plane = transparency.shape[2] * transparency.shape[3]
        var values: [Float] = []
        for image in 0..<count {
            let base = image * channels * plane
            let mean = (0..<plane).map { pixel in
                (0..<channels).reduce(Float(0)) { $0 + transparency.values[base + $1 * plane + pixel] } / Float(channels)
            }
            let sorted = mean.sorted()
            // After clipping at the 80th percentile, that percentile is the largest value.
            let clip = sorted[min(sorted.count - 1, Int((0.8 * Double(sorted.count - 1)).rounded()))]
            values += mean.map { clip > 0 ? min($0, clip) / clip : 0 }
        }
        return HostTensor(shape: [count, 1, transparency.shape[2], transparency.shape[3]], values: values)
    }
}
