import TensorOps

/// The gradient attribution methods of `convlens saliency`, with Captum's definitions.
public enum AttributionMethod: String, Sendable, CaseIterable {
    /// ∂score/∂input (Simonyan et al.), signed.
    case gradient
    /// input ⊙ ∂score/∂input.
    case inputXGradient = "input-x-gradient"
    /// The mean gradient over noisy copies of the input (Smilkov et al.).
    case smoothGrad = "smoothgrad"
    /// The gradient with guided-backpropagation ReLUs (only positive gradients through active units).
    case guidedBackprop = "guided-backprop"
    /// The gradient with deconvnet ReLUs (only positive gradients).
    case deconvnet
    /// Guided backpropagation weighted by the Grad-CAM map of the default layer, as pytorch-grad-cam's recipe.
    case guidedGradCAM = "guided-gradcam"
    /// (input − baseline) ⊙ the path integral of the gradient from a zero baseline, trapezoid rule.
    case integratedGradients = "integrated-gradients"
    /// The score's drop when a window of the input is set to zero, averaged over the windows covering each pixel.
    case occlusion
}

/// How an attribution runs.
public struct AttributionSettings: Sendable {
    public var method: AttributionMethod
    /// SmoothGrad: noisy copies, and the noise's standard deviation as a fraction of the input's value range.
    public var samples = 25
    public var noise: Float = 0.15
    /// Integrated gradients: points on the path, ends included (trapezoid rule).
    public var steps = 32
    /// Occlusion: the square window's side and its stride, in pixels.
    public var window = 8
    public var stride = 4
    /// Images per batched forward for the sampled methods (SmoothGrad, integrated gradients, occlusion).
    public var batch = 16
    public var seed: UInt64 = 0
    /// What is explained instead of a class score: one channel of a layer's activation.
    public var unit: FeatureUnit?

    public init(method: AttributionMethod) { self.method = method }
}

/// One channel of a layer's activation (N×K×h×w, or N×K), summed over its positions or taken at one of them: the
/// quantity an attribution explains when it explains a feature map rather than a class.
public struct FeatureUnit: Sendable, Equatable {
    /// A value or node name.
    public var layer: String
    public var channel: Int
    /// Row and column in the activation; nil: the sum over every position.
    public var position: (y: Int, x: Int)?

    public init(layer: String, channel: Int, position: (y: Int, x: Int)? = nil) {
        (self.layer, self.channel, self.position) = (layer, channel, position)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.layer == b.layer && a.channel == b.channel && a.position?.y == b.position?.y && a.position?.x == b.position?.x
    }

    /// The unit's description for messages: `'layer' channel K` and the position when there is one.
    public var description: String {
        "'\(layer)' channel \(channel)" + (position.map { " at (\($0.y), \($0.x))" } ?? "")
    }

    /// d(unit)/d(activation) for an activation of shape `shape` (N×K×h×w or N×K): ones on the channel's plane (or
    /// at the position), image n's weighted by `weights[n]` (1 when not given).
    /// - Throws: `VisualizationError.badSetting` for a channel or position out of range, or a position on a layer
    ///   without spatial extent.
    func seed(shape: TensorShape, weights: [Float]? = nil) throws -> HostTensor {
        try validate(shape: shape)
        var seed = HostTensor(zeros: shape)
        let channels = shape[1], plane = shape.count / (shape[0] * channels)
        let width = shape.rank == 4 ? shape[3] : 1
        for image in 0..<shape[0] {
            let base = (image * channels + channel) * plane, weight = weights?[image] ?? 1
            if let position {
                seed.values[base + position.y * width + position.x] = weight
            } else {
                for offset in 0..<plane { seed.values[base + offset] = weight }
            }
        }
        return seed
    }

    /// The unit's value in each image of `activation` (N×K×h×w or N×K).
    func values(_ activation: HostTensor) -> [Float] {
        let shape = activation.shape
        let channels = shape[1], plane = shape.count / (shape[0] * channels)
        let width = shape.rank == 4 ? shape[3] : 1
        return (0..<shape[0]).map { image in
            let base = (image * channels + channel) * plane
            if let position { return activation.values[base + position.y * width + position.x] }
            return activation.values[base..<base + plane].reduce(0, +)
        }
    }

    private func validate(shape: TensorShape) throws {
        guard shape.rank == 4 || shape.rank == 2 else {
            throw VisualizationError.badLayer(layer, reason: "has shape \(shape); a unit needs an N×K×h×w or N×K activation")
        }
        guard (0..<shape[1]).contains(channel) else {
            throw VisualizationError.badSetting("--channel \(channel) is outside the layer's \(shape[1]) channels (0–\(shape[1] - 1))")
        }
        guard let position else { return }
        guard shape.rank == 4 else {
            throw VisualizationError.badLayer(layer, reason: "has no spatial extent (shape \(shape)); --position needs an N×K×h×w activation")
        }
        guard (0..<shape[2]).contains(position.y), (0..<shape[3]).contains(position.x) else {
            throw VisualizationError.badSetting("--position \(position.y),\(position.x) is outside the layer's \(shape[2])×\(shape[3]) positions")
        }
    }
}
