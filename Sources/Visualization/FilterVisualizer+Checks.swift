import ModelGraph
import TensorOps

extension FilterVisualizer {
    /// Settings that cannot work whatever the model.
    static func validate(_ s: FilterVisualizationSettings) throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw VisualizationError.badSetting(message) }
        }
        try require(!s.channels.isEmpty, "no channels to visualize")
        try require(s.size >= 8, "--size must be at least 8, got \(s.size)")
        try require(s.octaves >= 1, "--octaves must be at least 1, got \(s.octaves)")
        try require(s.octaves == 1 || (s.octaveScale > 1 && s.octaveScale.isFinite),
                    "--octave-scale must be above 1, got \(s.octaveScale)")
        try require(s.octaveSizes.first ?? s.size >= 8,
                    "the smallest octave is \(s.octaveSizes.first ?? s.size) px; it must be at least 8 (fewer --octaves or a smaller --octave-scale)")
        try require(s.steps >= 1, "--steps must be at least 1, got \(s.steps)")
        try require(s.learningRate > 0 && s.learningRate.isFinite, "--lr must be positive, got \(s.learningRate)")
        try require(s.jitter >= 0, "--jitter must not be negative")
        try require(s.scaleRange.lowerBound > 0, "--scale must be positive")
        try require(s.l2 >= 0 && s.tv >= 0, "--l2 and --tv must not be negative")
        try require(s.blurEvery.map { $0 >= 1 } ?? true, "--blur-every must be at least 1")
        try require(s.blurSigma > 0, "--blur-sigma must be positive")
        try require(s.mean.count == s.std.count && [1, 3].contains(s.mean.count),
                    "preprocessing must give 1 or 3 channels with one mean and std each")
        try require(s.std.allSatisfy { $0 > 0 }, "--std values must be positive")
        try require(s.diversity >= 0, "--diversity must not be negative")
        try require(s.diversity == 0 || s.channels.count >= 2, "--diversity needs at least 2 channels in the batch")
        if s.parameterization == .maco { try validateMaco(s) }
    }

    /// MaCo's own settings, and the options it does not combine with.
    private static func validateMaco(_ s: FilterVisualizationSettings) throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw VisualizationError.badSetting(message) }
        }
        let m = s.maco
        try require(s.imageChannels == 3,
                    "--param maco needs a 3-channel model (it optimizes colour phases under a natural photo's colour "
                        + "spectrum); this preprocessing gives \(s.imageChannels) channel\(s.imageChannels == 1 ? "" : "s")")
        try require(m.crops >= 1, "--crops must be at least 1, got \(m.crops)")
        try require(m.cropScale.lowerBound > 0 && m.cropScale.upperBound.isFinite,
                    "--crop-scale must be positive fractions of the image, got \(m.cropScale.lowerBound):\(m.cropScale.upperBound)")
        try require(m.cropScale.upperBound <= 1,
                    "--crop-scale \(m.cropScale.upperBound) would take crops larger than the image; the largest is 1")
        try require((m.cropSize ?? s.size) >= 8, "--crop-size must be at least 8, got \(m.cropSize ?? s.size)")
        try require(m.noise >= 0 && m.noise.isFinite, "--noise must be a finite value of at least 0, got \(m.noise)")
        if let table = m.magnitude { _ = try MacoSpectrum.checked(table, source: "the MaCo spectrum") }
        try require(s.octaves == 1 && s.blurEvery == nil && s.l2 == 0 && s.tv == 0 && s.diversity == 0,
                    "--param maco has no octaves, blur or penalty terms (--octaves, --blur-every, --l2, --tv, --diversity)")
    }

    /// Every value's shape for the batch. A size below the layer's theoretical receptive field is normal for deep
    /// layers (Lucid renders mixed4a at 128 px; padding covers the rest); only a size at which some node on the way
    /// would have no positions is refused.
    static func checkedShapes(graph: Graph, layer: String, settings: FilterVisualizationSettings,
                              imageShape: TensorShape) throws -> [String: TensorShape] {
        if let declared = graph.input.dimensions.dropFirst().first, let channels = declared,
            channels != settings.imageChannels
        {
            throw VisualizationError.badSetting(
                "the model takes \(channels)-channel images but the preprocessing gives \(settings.imageChannels)")
        }
        do {
            return try graph.inferShapes(input: imageShape, through: layer)
        } catch ModelError.shape(let node, _, let error) {
            throw VisualizationError.sizeTooSmall(size: settings.size, node: node, reason: error.message)
        }
    }

    /// A note when `size` is below the layer's theoretical receptive field (the larger side, from the model's own
    /// input size when it fixes one), else nil.
    static func receptiveFieldNote(graph: Graph, layer: String, name: String, size: Int) -> String? {
        let channels = graph.input.dimensions.count == 4 ? graph.input.dimensions[1] ?? 3 : 3
        let shape = graph.input.shape(batch: 1) ?? [1, channels, size, size]
        guard let rows = try? graph.summary(input: shape),
            let row = rows.first(where: { $0.node.output == layer }), let field = row.receptiveField,
            case let largest = max(field.size.height, field.size.width), size < largest
        else { return nil }
        return "note: \(size) px is below the theoretical receptive field of '\(name)' (\(largest) px); "
            + "the border's padding covers the rest"
    }

    /// Refuses runs whose activations, gradients and image buffers would not fit the device.
    static func checkMemory(shapes: [String: TensorShape], needed: Set<String>, backend: B, imageShape: TensorShape) throws {
        guard let capacity = backend.memoryCapacity else { return }
        // Activation and gradient per value, plus about a dozen image-sized buffers (parameter, moments, transforms).
        let activations = needed.compactMap { shapes[$0]?.count }.reduce(0, +)
        let bytes = 4 * (2 * activations + 12 * imageShape.count)
        if bytes > capacity { throw VisualizationError.notEnoughMemory(needed: bytes, available: capacity) }
    }
}
