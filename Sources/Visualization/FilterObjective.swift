import TensorOps

/// The quantity each image of the batch maximizes, as the constant seed gradient it sends into the network
/// (∂objective/∂activation), and as a value computed from a downloaded activation for progress reports.
struct FilterObjective: Sendable {
    let kind: FilterVisualizationSettings.Objective
    let channels: [Int]
    let negative: Bool

    /// The layer's channel (or class) count, checked against the requested channels.
    static func requireChannels(_ channels: [Int], layer: String, shape: TensorShape,
                                kind: FilterVisualizationSettings.Objective) throws {
        switch kind {
        case .logit:
            guard shape.rank == 2 else {
                throw VisualizationError.badLayer(layer, reason: "the logit objective needs an N×classes output, got \(shape)")
            }
        case .channel, .neuron:
            guard shape.rank == 4 else {
                throw VisualizationError.badLayer(layer, reason: "has no spatial extent (shape \(shape)); use --objective logit")
            }
        }
        if let bad = channels.first(where: { !(0..<shape[1]).contains($0) }) {
            throw VisualizationError.channelOutOfRange(bad, layer: layer, count: shape[1])
        }
    }

    /// ∂objective/∂activation for a layer activation of `shape` (N images).
    func seed(shape: TensorShape) -> HostTensor {
        var seed = HostTensor(zeros: shape)
        let sign: Float = negative ? -1 : 1
        let plane = shape.rank == 4 ? shape[2] * shape[3] : 1
        for (image, channel) in channels.enumerated() {
            let base = (image * shape[1] + channel) * plane
            switch kind {
            case .channel:
                for index in base..<(base + plane) { seed.values[index] = sign / Float(plane) }
            case .neuron:
                seed.values[base + (shape[2] / 2) * shape[3] + shape[3] / 2] = sign
            case .logit:
                seed.values[base] = sign
            }
        }
        return seed
    }

    /// Each image's objective (sign included) from its layer activation.
    func values(of activation: HostTensor) -> [Double] {
        let shape = activation.shape
        let seed = seed(shape: shape)
        let perImage = shape.count / shape[0]
        return channels.indices.map { image in
            let range = (image * perImage)..<((image + 1) * perImage)
            return range.reduce(0.0) { $0 + Double(activation.values[$1]) * Double(seed.values[$1]) }
        }
    }
}

/// Why a visualization cannot run or stopped.
public enum VisualizationError: Error, CustomStringConvertible, Sendable {
    case badLayer(String, reason: String)
    case channelOutOfRange(Int, layer: String, count: Int)
    case sizeTooSmall(size: Int, node: String, reason: String)
    case notEnoughMemory(needed: Int, available: Int)
    /// `cause`: the first node that produced a non-finite value from finite inputs (the model's fault), or nil when
    /// the image itself stopped being finite (the optimizer's).
    case nonFinite(step: Int, channel: Int, cause: String?)
    case badSetting(String)

    public var description: String {
        switch self {
        case .badLayer(let layer, let reason):
            return "layer '\(layer)' \(reason)"
        case .channelOutOfRange(let channel, let layer, let count):
            return "channel \(channel) is out of range: layer '\(layer)' has channels 0–\(count - 1)"
        case .sizeTooSmall(let size, let node, let reason):
            return "image size \(size) leaves node '\(node)' without positions (\(reason)); use a larger --size"
        case .notEnoughMemory(let needed, let available):
            return "this run needs about \(needed >> 20) MiB of device memory, the device has \(available >> 20) MiB; "
                + "use fewer channels or a smaller --size"
        case .nonFinite(let step, let channel, let cause?):
            return "the objective became NaN or infinite by step \(step) for channel \(channel): \(cause)"
        case .nonFinite(let step, let channel, nil):
            return "the objective became NaN or infinite by step \(step) for channel \(channel); lower --lr"
        case .badSetting(let reason):
            return reason
        }
    }
}
