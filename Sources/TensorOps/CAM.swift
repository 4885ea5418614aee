/// How a gradient-based class-activation-map method turns a layer's activations A and the gradients G of the
/// class score with respect to them (both N×K×h×w) into one map per image, as pytorch-grad-cam defines each.
public enum CAMRule: String, Sendable, CaseIterable {
    /// Grad-CAM: w_k = mean over positions of G_k; map = Σ_k w_k A_k.
    case gradCAM = "gradcam"
    /// Grad-CAM++: α = G² / (2G² + (Σ_positions A)·G³ + 10⁻⁶), 0 where G = 0; w_k = Σ_positions relu(G)·α.
    case gradCAMPlusPlus = "gradcam++"
    /// XGrad-CAM: w_k = Σ_positions G·A / (Σ_positions A + 10⁻⁷).
    case xGradCAM = "xgradcam"
    /// HiRes-CAM: map = Σ_k G_k ⊙ A_k (element-wise, no averaging).
    case hiResCAM = "hirescam"
    /// Layer-CAM: map = Σ_k relu(G_k) ⊙ A_k.
    case layerCAM = "layercam"

    /// pytorch-grad-cam's ε in the rule's denominator (Grad-CAM++ and XGrad-CAM), 0 for the others.
    public var epsilon: Float {
        switch self {
        case .gradCAMPlusPlus: 1e-6
        case .xGradCAM: 1e-7
        case .gradCAM, .hiResCAM, .layerCAM: 0
        }
    }

    /// Whether the rule weighs whole channels (`camChannelWeights` then `camWeightedSum`) rather than each
    /// position (`camPixelwiseSum`).
    public var weighsChannels: Bool {
        switch self {
        case .gradCAM, .gradCAMPlusPlus, .xGradCAM: true
        case .hiResCAM, .layerCAM: false
        }
    }
}

/// Shapes of the CAM ops: activations (and gradients) N×K×h×w, channel weights N×K, maps N×1×h×w.
public struct CAMGeometry: Hashable, Sendable {
    public let activation: TensorShape

    /// - Throws: `ShapeError` unless the activation is NCHW with positive sizes.
    public init(activation: TensorShape) throws(ShapeError) {
        try activation.requireNCHW("activation", of: "cam")
        try activation.requirePositive("activation", of: "cam")
        self.activation = activation
    }

    public var images: Int { activation[0] }
    public var channels: Int { activation[1] }
    public var positions: Int { activation[2] * activation[3] }
    public var weightShape: TensorShape { [images, channels] }
    public var mapShape: TensorShape { [images, 1, activation[2], activation[3]] }
}

/// A heat map coloured by a lookup table and laid over an image: `alpha · lut[⌊255·map⌋] + (1 − alpha) · image`
/// per pixel, map N×1×H×W in [0, 1], image and output N×3×H×W, lut 256×3 in [0, 1].
public struct OverlayGeometry: Hashable, Sendable {
    public let map: TensorShape

    public init(map: TensorShape, lut: TensorShape, image: TensorShape, output: TensorShape) throws(ShapeError) {
        try map.requireNCHW("map", of: "overlay")
        try map.requirePositive("map", of: "overlay")
        guard map[1] == 1 else { throw ShapeError(op: "overlay", message: "map \(map) must have one channel") }
        let rgb: TensorShape = [map[0], 3, map[2], map[3]]
        try image.require(rgb, "image", of: "overlay")
        try output.require(rgb, "output", of: "overlay")
        try lut.require([256, 3], "lut", of: "overlay")
        self.map = map
    }

    public var images: Int { map[0] }
    public var positions: Int { map[2] * map[3] }
}

// MARK: - Descriptor

/// The class-activation-map family (Kernels/cam.cl, `OpenCLBackend+CAM`, `ReferenceMath+CAM`): forward only, as a
/// map is looked at, not differentiated.
public enum CAMOp: OpFamily {
    public static let parityCases: [any OpCase] =
        CAMRule.allCases.filter(\.weighsChannels).map { CAMCase(.channelWeights($0), activation: [2, 5, 6, 7]) }
        + CAMRule.allCases.filter { !$0.weighsChannels }.map { CAMCase(.pixelwiseSum($0), activation: [2, 5, 6, 7]) }
        + [
            CAMCase(.weightedSum, activation: [3, 9, 7, 5]),
            // Eigen-CAM's Gram matrix over channels (positions > channels), then over positions.
            CAMCase(.principalProjection, activation: [2, 5, 6, 7]),
            CAMCase(.principalProjection, activation: [2, 40, 3, 4]),
            MapCase(.minMaxNormalize(epsilon: 1e-7), input: [3, 1, 7, 9]),
            MapCase(.minMaxNormalize(epsilon: 1e-8), input: [4, 2, 3, 5]),
            MapCase(.overlay(alpha: 0.5), input: [2, 1, 6, 9]),
        ]

    public static let gradientCases: [any DifferentiableOpCase] = []
}

/// One CAM op over activations (after a ReLU: non-negative) and gradients (a few exact zeros, which Grad-CAM++'s
/// mask treats apart).
public struct CAMCase: OpCase {
    public enum Kind: Sendable {
        case channelWeights(CAMRule)
        case weightedSum
        case pixelwiseSum(CAMRule)
        case principalProjection
    }

    public let kind: Kind
    public let geometry: CAMGeometry

    init(_ kind: Kind, activation: TensorShape) {
        self.kind = kind
        geometry = try! CAMGeometry(activation: activation)
    }

    public var op: String {
        switch kind {
        case .channelWeights: "cam_weights"
        case .weightedSum: "cam_weighted_sum"
        case .pixelwiseSum: "cam_pixel_sum"
        case .principalProjection: "cam_principal"
        }
    }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String {
        switch kind {
        case .channelWeights(let rule), .pixelwiseSum(let rule): "\(rule.rawValue) activation \(geometry.activation)"
        case .weightedSum, .principalProjection: "activation \(geometry.activation)"
        }
    }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let shape = geometry.activation
        func output(_ name: String, _ tensor: B.Tensor) throws -> [ParityOutput] {
            [ParityOutput(name: name, values: try backend.download(tensor).values)]
        }
        switch kind {
        case .channelWeights(let rule):
            let activation = try backend.upload(HostTensor(shape: shape,
                values: (0..<shape.count).map { _ in Float(abs(random.nextNormal())) }))
            let gradient = try backend.upload(HostTensor(shape: shape,
                values: (0..<shape.count).map { index in index % 7 == 0 ? 0 : Float(random.nextNormal()) }))
            let weights = try backend.makeTensor(geometry.weightShape)
            try backend.camChannelWeights(rule, activation: activation, gradient: gradient, weights: weights)
            return try output("weights", weights)
        case .weightedSum:
            let map = try backend.makeTensor(geometry.mapShape)
            try backend.camWeightedSum(activation: try backend.upload(.randomNormal(shape, using: &random)),
                                       weights: try backend.upload(.randomNormal(geometry.weightShape, using: &random)),
                                       output: map)
            return try output("map", map)
        case .pixelwiseSum(let rule):
            let map = try backend.makeTensor(geometry.mapShape)
            try backend.camPixelwiseSum(rule, activation: try backend.upload(.randomNormal(shape, using: &random)),
                                        gradient: try backend.upload(.randomNormal(shape, using: &random)), output: map)
            return try output("map", map)
        case .principalProjection:
            // Activations with one dominant component (a spatial pattern times channel loadings, 3× the noise), as
            // in real feature maps. On pure noise the top two eigenvalues can nearly tie, and float32 rounding of
            // the Gram matrix then turns the component itself (seen: rel L2 1.6e-5 on one 2×40×3×4 draw).
            var values = HostTensor.randomNormal(shape, using: &random).values
            for image in 0..<geometry.images {
                let pattern = (0..<geometry.positions).map { _ in Float(random.nextNormal()) }
                for channel in 0..<geometry.channels {
                    let loading = 3 * Float(random.nextNormal())
                    let start = (image * geometry.channels + channel) * geometry.positions
                    for position in 0..<geometry.positions { values[start + position] += loading * pattern[position] }
                }
            }
            let map = try backend.makeTensor(geometry.mapShape)
            try backend.camPrincipalProjection(activation: try backend.upload(HostTensor(shape: shape, values: values)),
                                               output: map)
            return try output("map", map)
        }
    }
}

/// What is done to a map before it is shown: normalized, coloured over the image (resized by `ResizeOp`).
public struct MapCase: OpCase {
    public enum Kind: Sendable {
        case minMaxNormalize(epsilon: Float)
        case overlay(alpha: Float)
    }

    public let kind: Kind
    public let input: TensorShape

    init(_ kind: Kind, input: TensorShape) {
        (self.kind, self.input) = (kind, input)
    }

    public var op: String {
        switch kind {
        case .minMaxNormalize: "min_max_normalize"
        case .overlay: "overlay"
        }
    }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String {
        switch kind {
        case .minMaxNormalize(let epsilon): "x\(input) ε \(epsilon)"
        case .overlay(let alpha): "map \(input) alpha \(alpha)"
        }
    }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let result: B.Tensor
        switch kind {
        case .minMaxNormalize(let epsilon):
            result = try backend.makeTensor(input)
            try backend.minMaxNormalize(input: try backend.upload(.randomNormal(input, using: &random)), output: result,
                                        epsilon: epsilon)
        case .overlay(let alpha):
            let rgb: TensorShape = [input[0], 3, input[2], input[3]]
            // Map values away from the 1/255 steps of the table, so both backends pick the same entry.
            let map = try backend.upload(HostTensor(shape: input, values: (0..<input.count).map { _ in
                (Float(Int(random.nextUniform() * 255)) + 0.5) / 255 }))
            let lut = try backend.upload(HostTensor(shape: [256, 3], values: (0..<768).map { _ in Float(random.nextUniform()) }))
            let image = try backend.upload(HostTensor(shape: rgb, values: (0..<rgb.count).map { _ in Float(random.nextUniform()) }))
            result = try backend.makeTensor(rgb)
            try backend.overlay(map: map, lut: lut, image: image, alpha: alpha, output: result)
        }
        return [ParityOutput(name: "output", values: try backend.download(result).values)]
    }
}

// MARK: - Cost

extension CAMGeometry {
    /// Channel weights: Grad-CAM sums the gradient (1 operation per element); XGrad-CAM and Grad-CAM++ also sum
    /// the activation and spend about 3 (XGrad-CAM) or 8 (Grad-CAM++) operations per element on the weight.
    public func channelWeightsCost(_ rule: CAMRule) -> OpCost {
        let perElement = switch rule {
        case .gradCAM: 1
        case .xGradCAM: 4
        case .gradCAMPlusPlus: 9
        // Pixel-wise rules have no channel weights (camChannelWeights refuses them).
        case .hiResCAM, .layerCAM: 0
        }
        return OpCost(flops: perElement * activation.count,
                      bytes: OpCost.traffic(rule == .gradCAM ? 0 : activation.count, activation.count, weightShape.count))
    }

    /// The weighted sum over channels: a multiply-add per activation element, and the ReLU per map element.
    public var weightedSumCost: OpCost {
        OpCost(flops: 2 * activation.count + mapShape.count,
               bytes: OpCost.traffic(activation.count, weightShape.count, mapShape.count))
    }

    /// Eigen-CAM: the Gram matrix of the smaller side (S = min(positions, channels)) and the projection. The power
    /// iterations (S² multiply-adds each) are not counted: how many run depends on the data, so the figure is a
    /// lower bound, like the bytes.
    public var principalProjectionCost: OpCost {
        let side = min(positions, channels)
        return OpCost(flops: 2 * side * side * max(positions, channels) * images + 2 * activation.count,
                      bytes: OpCost.traffic(activation.count, images * side * side, mapShape.count))
    }

    /// The position-weighted sum (HiRes-CAM, Layer-CAM): a multiply-add (and a ReLU) per element.
    public var pixelwiseSumCost: OpCost {
        OpCost(flops: 3 * activation.count + mapShape.count,
               bytes: OpCost.traffic(activation.count, activation.count, mapShape.count))
    }
}

extension OverlayGeometry {
    /// A table look-up per pixel and a blend (three operations) per colour channel.
    public var cost: OpCost {
        OpCost(flops: 10 * images * positions, bytes: OpCost.traffic(images * positions, 6 * images * positions, 768))
    }
}

extension OpCost {
    /// Min-max normalization: a comparison pair per element to find the range, then a subtraction and division.
    public static func minMaxNormalize(count: Int) -> OpCost {
        OpCost(flops: 4 * count, bytes: OpCost.traffic(count, count, count))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func camChannelWeights(_ rule: CAMRule, activation: Tensor, gradient: Tensor, weights: Tensor) throws {
        let checked = Checked(try checkCAM(
            rule, weighsChannels: true, activation: activation.shape, gradient: gradient.shape, weights: weights.shape,
            map: nil))
        try camChannelWeights(checked, rule, activation: activation, gradient: gradient, weights: weights)
    }

    public func camWeightedSum(activation: Tensor, weights: Tensor, output: Tensor) throws {
        let checked = Checked(try checkCAM(
            activation: activation.shape, gradient: nil, weights: weights.shape, map: output.shape))
        try camWeightedSum(checked, activation: activation, weights: weights, output: output)
    }

    public func camPixelwiseSum(_ rule: CAMRule, activation: Tensor, gradient: Tensor, output: Tensor) throws {
        let checked = Checked(try checkCAM(
            rule, weighsChannels: false, activation: activation.shape, gradient: gradient.shape, weights: nil,
            map: output.shape))
        try camPixelwiseSum(checked, rule, activation: activation, gradient: gradient, output: output)
    }

    public func camPrincipalProjection(activation: Tensor, output: Tensor) throws {
        let checked = Checked(try checkCAM(
            activation: activation.shape, gradient: nil, weights: nil, map: output.shape))
        try camPrincipalProjection(checked, activation: activation, output: output)
    }

    public func minMaxNormalize(input: Tensor, output: Tensor, epsilon: Float) throws {
        let checked = Checked(try checkSameShapes(
            [input.shape, output.shape], roles: ["input", "output"], of: "min_max_normalize"))
        try minMaxNormalize(checked, input: input, output: output, epsilon: epsilon)
    }

    public func overlay(map: Tensor, lut: Tensor, image: Tensor, alpha: Float, output: Tensor) throws {
        let checked = Checked(try OverlayGeometry(
            map: map.shape, lut: lut.shape, image: image.shape, output: output.shape))
        try overlay(checked, map: map, lut: lut, image: image, alpha: alpha, output: output)
    }
}

// MARK: - Shape checks

extension Backend {
    /// Activations and gradients of one NCHW shape, weights N×K (when given), map N×1×h×w (when given).
    func checkCAM(activation: TensorShape, gradient: TensorShape?, weights: TensorShape?, map: TensorShape?)
        throws -> CAMGeometry
    {
        let geometry = try CAMGeometry(activation: activation)
        try gradient?.require(activation, "gradient", of: "cam")
        try weights?.require(geometry.weightShape, "weights", of: "cam")
        try map?.require(geometry.mapShape, "map", of: "cam")
        return geometry
    }

    /// `checkCAM`, for a rule that weighs channels (`weighsChannels`) or positions.
    func checkCAM(_ rule: CAMRule, weighsChannels: Bool, activation: TensorShape, gradient: TensorShape?,
                  weights: TensorShape?, map: TensorShape?) throws -> CAMGeometry {
        guard rule.weighsChannels == weighsChannels else {
            throw ShapeError(op: "cam", message: "\(rule.rawValue) " + (weighsChannels ? "has no channel weights" : "weighs channels"))
        }
        return try checkCAM(activation: activation, gradient: gradient, weights: weights, map: map)
    }
}
