import ModelGraph
import TensorOps

/// How a projection passes ReLUs on its way back to the input.
public enum ProjectionRule: String, Sendable, CaseIterable {
    /// Z&F's deconvnet: only positive signals pass, wherever the forward unit was.
    case deconvnet
    /// Springenberg et al.: only positive signals through units that were active.
    case guidedBackprop = "guided-backprop"
}

/// The counts a projection run takes, checked by the command before the model loads and by `FeatureProjector`.
public enum ProjectionCounts {
    /// A one-line reason when `top` or `perImage` cannot be used, nil when they can.
    public static func problem(top: Int, perImage: Int) -> String? {
        if !(1...1024).contains(top) { return "--top must be from 1 to 1024, got \(top)" }
        if perImage < 1 { return "--per-image must be at least 1, got \(perImage)" }
        return nil
    }
}

/// One of a channel's strongest activations over a set of images: how strong, in which image, where.
public struct TopActivation: Sendable, Equatable {
    public let value: Float
    /// The image's index in the order the images were observed.
    public let image: Int
    public let y: Int, x: Int

    /// Stronger first; ties go to the earlier image, then the earlier position, so runs are reproducible.
    static func ranksBefore(_ a: Self, _ b: Self) -> Bool {
        if a.value != b.value { return a.value > b.value }
        if a.image != b.image { return a.image < b.image }
        return (a.y, a.x) < (b.y, b.x)
    }
}

/// Zeiler & Fergus' projections ("Visualizing and Understanding Convolutional Networks", 2014): for each chosen
/// channel of a layer, its strongest activations over a set of images (`observe` keeps a running top-k per
/// channel as batches stream through), each projected back to pixel space by a backward pass from that one
/// activation with deconvnet (or guided-backpropagation) ReLUs, max-pooling's switches and transposed filters —
/// what the deconvnet's reconstruction computes. ReLU6 clips rectify too (`modifiedRulesRectifyClips`), so
/// MobileNets and EfficientNet-Lite project as ReLU networks do.
public final class FeatureProjector<B: Backend> {
    /// The layer's value name, and the name the user gave it (for messages).
    public let layer: String, layerName: String
    public let channels: [Int]
    public let top: Int
    /// At most this many of a channel's activations come from one image (1: every tile shows another image).
    public let perImage: Int
    public let rule: ProjectionRule
    /// The strongest activations so far per chosen channel, strongest first, at most `top` each.
    public private(set) var best: [[TopActivation]]
    public private(set) var imagesSeen = 0
    /// The layer's shape for one image (1×K×h×w), known after the first batch.
    public private(set) var layerShape: TensorShape?
    private let executor: GraphExecutor<B>
    private var backend: B { executor.backend }

    /// - Throws: `ModelError.noSuchLayer` (with the nearest names), `VisualizationError.badSetting` for a `top` or
    ///   `perImage` below 1 or no channels.
    public init(graph: Graph, backend: B, layer: String, channels: [Int], top: Int, perImage: Int = 1,
                rule: ProjectionRule = .deconvnet) throws {
        guard !channels.isEmpty else { throw VisualizationError.badSetting("no channels chosen") }
        if let problem = ProjectionCounts.problem(top: top, perImage: perImage) { throw VisualizationError.badSetting(problem) }
        self.layer = try graph.resolve(layer)
        guard self.layer != graph.input.name else {
            throw VisualizationError.badLayer(layer, reason: "is the model's input; projections start from a layer")
        }
        (layerName, self.channels, self.top, self.perImage, self.rule) = (layer, channels, top, perImage, rule)
        best = Array(repeating: [], count: channels.count)
        executor = try GraphExecutor(graph: graph, backend: backend)
        executor.foldsEpilogues = []  // the projections read the input's gradient only
    }

    /// Runs `images` (N×C×H×W, preprocessed) to the layer and merges each chosen channel's strongest positions
    /// (at most `perImage` per image) into the running top-k.
    /// - Throws: `VisualizationError.badLayer` for a layer without spatial extent, `.badSetting` for a channel
    ///   outside it, the executor's error naming the node when the activation is not finite.
    public func observe(_ images: HostTensor) throws {
        let activation = try backend.download(try executor.forward(try backend.upload(images), through: layer))
        try requireSpatial(activation.shape)
        try executor.requireFinite(activation)
        let (count, planes, height, width) = (activation.shape[0], activation.shape[1], activation.shape[2], activation.shape[3])
        let plane = height * width
        for (slot, channel) in channels.enumerated() {
            var candidates = best[slot]
            for image in 0..<count {
                let base = (image * planes + channel) * plane
                func unit(_ offset: Int) -> TopActivation {
                    TopActivation(value: activation.values[base + offset], image: imagesSeen + image,
                                  y: offset / width, x: offset % width)
                }
                if perImage == 1 {
                    // The first largest value in row-major order: what the ranking's tie rule picks, without a sort.
                    var strongest = 0
                    for offset in 1..<plane where activation.values[base + offset] > activation.values[base + strongest] {
                        strongest = offset
                    }
                    candidates.append(unit(strongest))
                } else {
                    candidates += (0..<plane).map(unit).sorted(by: TopActivation.ranksBefore).prefix(perImage)
                }
            }
            best[slot] = Array(candidates.sorted(by: TopActivation.ranksBefore).prefix(top))
        }
        imagesSeen += count
    }

    /// Refuses a run that cannot fill `top` tiles per channel from the images observed.
    public func requireEnoughCandidates() throws {
        guard let layerShape else { throw VisualizationError.badSetting("no image was observed") }
        let available = imagesSeen * min(perImage, layerShape[2] * layerShape[3])
        guard top <= available else {
            throw VisualizationError.badSetting(
                "--top \(top) is more than the \(available) activations available per channel (\(imagesSeen) image(s) × "
                    + "\(min(perImage, layerShape[2] * layerShape[3])) position(s) each); lower --top or add images")
        }
    }

    /// The projection of each activation in `units` (channel and activation, the activation's `image` indexing
    /// `images`) back to the input: the gradient of that one activation with respect to the input image under the
    /// rule's ReLUs, 1×C×H×W each, in the order given. Runs in batches of at most `batch` units.
    public func project(_ units: [(channel: Int, activation: TopActivation)], images: [Int: HostTensor], batch: Int)
        throws -> [HostTensor]
    {
        guard let layerShape else { throw VisualizationError.badSetting("no image was observed") }
        executor.reluGradient = rule == .deconvnet ? .deconvnet : .guided
        executor.modifiedRulesRectifyClips = true
        defer { (executor.reluGradient, executor.modifiedRulesRectifyClips) = (.standard, false) }
        var projections: [HostTensor] = []
        for start in stride(from: 0, to: units.count, by: max(batch, 1)) {
            let chunk = units[start..<min(start + max(batch, 1), units.count)]
            let inputs = try chunk.map { unit in
                guard let image = images[unit.activation.image] else {
                    throw VisualizationError.badSetting("image \(unit.activation.image) was not given for its projection")
                }
                return image
            }
            let inputShape = TensorShape([chunk.count] + inputs[0].shape.dimensions.dropFirst())
            _ = try executor.forward(try backend.upload(HostTensor(shape: inputShape, values: inputs.flatMap(\.values))),
                                     through: layer)
            let shape = TensorShape([chunk.count] + layerShape.dimensions.dropFirst())
            let (planes, plane, width) = (shape[1], shape[2] * shape[3], shape[3])
            var seed = HostTensor(zeros: shape)
            for (row, unit) in chunk.enumerated() {
                seed.values[(row * planes + unit.channel) * plane + unit.activation.y * width + unit.activation.x] = 1
            }
            let input = executor.graph.input.name
            guard let gradient = try executor.backward(from: layer, seed: try backend.upload(seed), to: [input])[input] else {
                throw VisualizationError.badSetting("no gradient reached the input")
            }
            let host = try backend.download(gradient)
            let size = host.shape.count / chunk.count
            let single = TensorShape([1] + host.shape.dimensions.dropFirst())
            projections += (0..<chunk.count).map { HostTensor(shape: single, values: Array(host.values[($0 * size)..<(($0 + 1) * size)])) }
        }
        return projections
    }

    private func requireSpatial(_ shape: TensorShape) throws {
        try Self.requireSpatial(shape, layer: layerName, channels: channels)
        layerShape = TensorShape([1] + shape.dimensions.dropFirst())
    }

    /// Refuses a layer of `shape` without spatial extent, or `channels` outside it.
    public static func requireSpatial(_ shape: TensorShape, layer: String, channels: [Int]) throws {
        guard shape.rank == 4 else {
            throw VisualizationError.badLayer(layer, reason: "has no spatial extent (shape \(shape)); projections need an N×K×h×w activation")
        }
        if let channel = channels.first(where: { !(0..<shape[1]).contains($0) }) {
            throw VisualizationError.badSetting("--channels: channel \(channel) is outside the layer's \(shape[1]) channels (0–\(shape[1] - 1))")
        }
    }
}

extension FeatureProjector {
    /// The layer's receptive field for images of `inputShape`: the window each projection is cropped to.
    /// - Throws: `VisualizationError.badLayer` when the layer has no whole-pixel receptive field (its positions
    ///   step by fractions of a pixel after a resize or a transposed convolution).
    public func receptiveField(graph: Graph, inputShape: TensorShape) throws -> ReceptiveField {
        let rows = try graph.summary(input: TensorShape([1] + inputShape.dimensions.dropFirst()))
        guard let field = rows.last(where: { $0.node.output == layer })?.receptiveField else {
            throw VisualizationError.badLayer(layerName, reason: "has no whole-pixel receptive field to crop projections to")
        }
        return field
    }
}
