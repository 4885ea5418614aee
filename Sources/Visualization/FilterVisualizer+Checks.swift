import ModelGraph
import TensorOps

extension FilterVisualizationSettings {
    /// The largest image side and channel batch accepted: far above what visualizations use (Lucid renders 128 to
    /// 512 px), and small enough that a typo cannot ask for more memory than any device has.
    public static let maximumSize = 4096
    public static let maximumChannels = 4096

    /// Settings that cannot work whatever the model: every count in range and every number finite, checked before
    /// anything is computed from them.
    /// - Throws: `VisualizationError.badSetting` naming the option.
    public func validate() throws {
        let s = self
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw VisualizationError.badSetting(message) }
        }
        try require(!s.channels.isEmpty, "no channels to visualize")
        try require(s.channels.count <= Self.maximumChannels,
                    "\(s.channels.count) channels in one run; at most \(Self.maximumChannels)")
        try require((8...Self.maximumSize).contains(s.size), "--size must be from 8 to \(Self.maximumSize), got \(s.size)")
        try require((1...16).contains(s.octaves), "--octaves must be from 1 to 16, got \(s.octaves)")
        try require(s.octaves == 1 || (s.octaveScale > 1 && s.octaveScale <= 16),
                    "--octave-scale must be above 1 (at most 16), got \(s.octaveScale)")
        try require(s.octaveSizes.first ?? s.size >= 8,
                    "the smallest octave is \(s.octaveSizes.first ?? s.size) px; it must be at least 8 (fewer --octaves or a smaller --octave-scale)")
        try require((1...1_000_000).contains(s.steps), "--steps must be from 1 to 1000000, got \(s.steps)")
        try require(s.learningRate > 0 && s.learningRate.isFinite, "--lr must be positive and finite, got \(s.learningRate)")
        try require((0...s.size).contains(s.jitter), "--jitter must be from 0 to the image size \(s.size), got \(s.jitter)")
        try require(s.scaleRange.lowerBound > 0 && s.scaleRange.upperBound <= 16,
                    "--scale must be within (0, 16], got \(s.scaleRange.lowerBound):\(s.scaleRange.upperBound)")
        try require(s.rotation.isFinite && (0...360).contains(s.rotation),
                    "--rotate must be from 0 to 360 degrees, got \(s.rotation)")
        try require(s.l2 >= 0 && s.tv >= 0 && s.l2.isFinite && s.tv.isFinite, "--l2 and --tv must be finite and not negative")
        try require(s.blurEvery.map { $0 >= 1 } ?? true, "--blur-every must be at least 1")
        try require(s.blurSigma > 0 && s.blurSigma <= 100, "--blur-sigma must be within (0, 100], got \(s.blurSigma)")
        try require(s.mean.count == s.std.count && [1, 3].contains(s.mean.count),
                    "preprocessing must give 1 or 3 channels with one mean and std each")
        try require(s.mean.allSatisfy(\.isFinite), "--mean values must be finite")
        try require(s.std.allSatisfy { $0 > 0 && $0.isFinite }, "--std values must be positive and finite")
        try require(s.diversity >= 0 && s.diversity.isFinite, "--diversity must be finite and not negative")
        try require(s.diversity == 0 || s.channels.count >= 2, "--diversity needs at least 2 channels in the batch")
        if s.parameterization == .maco { try validateMaco() }
    }

    /// MaCo's own settings, and the options it does not combine with.
    private func validateMaco() throws {
        let s = self
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw VisualizationError.badSetting(message) }
        }
        let m = s.maco
        try require(s.imageChannels == 3,
                    "--param maco needs a 3-channel model (it optimizes colour phases under a natural photo's colour "
                        + "spectrum); this preprocessing gives \(s.imageChannels) channel\(s.imageChannels == 1 ? "" : "s")")
        try require((1...64).contains(m.crops), "--crops must be from 1 to 64, got \(m.crops)")
        try require(m.cropScale.lowerBound > 0 && m.cropScale.upperBound.isFinite,
                    "--crop-scale must be positive fractions of the image, got \(m.cropScale.lowerBound):\(m.cropScale.upperBound)")
        try require(m.cropScale.upperBound <= 1,
                    "--crop-scale \(m.cropScale.upperBound) would take crops larger than the image; the largest is 1")
        try require((8...Self.maximumSize).contains(m.cropSize ?? s.size),
                    "--crop-size must be from 8 to \(Self.maximumSize), got \(m.cropSize ?? s.size)")
        try require(m.noise >= 0 && m.noise.isFinite, "--noise must be a finite value of at least 0, got \(m.noise)")
        if let table = m.magnitude { _ = try MacoSpectrum.checked(table, source: "the MaCo spectrum") }
        try require(s.octaves == 1 && s.blurEvery == nil && s.l2 == 0 && s.tv == 0 && s.diversity == 0,
                    "--param maco has no octaves, blur or penalty terms (--octaves, --blur-every, --l2, --tv, --diversity)")
    }

}

extension FilterVisualizer {
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
        } catch ModelError.shape(let node, let opType, let error) where error.isTooLarge {
            throw VisualizationError.badSetting("this run needs more than any device holds: node '\(node)' (\(opType)): "
                + error.message + "; use fewer channels or a smaller --size")
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
