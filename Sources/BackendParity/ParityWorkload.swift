import TensorOps

/// Which pass of an op a parity case runs.
public enum Direction: String, Sendable, CaseIterable {
    case forward
    case backward
    case backwardInput = "backward_input"
    case backwardWeight = "backward_weight"
    /// An optimizer update (no forward/backward distinction).
    case step
}

/// One op on one set of shapes: what a parity case runs on both backends.
public enum ParityWorkload: Sendable {
    case conv2d(input: TensorShape, weight: TensorShape, bias: Bool, Conv2DParameters)
    case pool2d(PoolKind, input: TensorShape, Pool2DParameters)
    case globalAvgPool2d(input: TensorShape)
    case activation(Activation, shape: TensorShape)
    case linear(input: TensorShape, outFeatures: Int, bias: Bool)
    case binary(BinaryOp, a: TensorShape, b: TensorShape)
    case channelAffine(shape: TensorShape)
    case softmax(shape: TensorShape)
    case concat(inputs: [TensorShape])
    case pad2d(input: TensorShape, Padding2D, value: Float)
    case transpose2d(input: TensorShape)
    case irfft2(image: TensorShape)
    /// Random maps: scales drawn from `scales`, rotations within ±`degrees`, shifts within ±3 px; `output` holds
    /// K resamplings of each image of `shape` (K = 1: the same shape).
    case affineResample(shape: TensorShape, output: TensorShape, fill: Float, scales: ClosedRange<Float>, degrees: Float)
    case imagePenalty(shape: TensorShape, l2: Float, tv: Float)
    /// MaCo's spectrum from a shared magnitude table (1×C×H×F) and phases of `phase`'s shape.
    case polarSpectrum(phase: TensorShape)
    case standardize(shape: TensorShape, epsilon: Float)
    case accumulateAbsolute(shape: TensorShape)
    case adam(count: Int, AdamParameters)
    case sgd(count: Int, learningRate: Float)
    case diversity(activation: TensorShape, weight: Float)
    case reluGradient(ReLUGradient, shape: TensorShape)
    case camChannelWeights(CAMRule, activation: TensorShape)
    case camWeightedSum(activation: TensorShape)
    case camPixelwiseSum(CAMRule, activation: TensorShape)
    case camPrincipalProjection(activation: TensorShape)
    case minMaxNormalize(shape: TensorShape, epsilon: Float)
    case resizeBilinear(input: TensorShape, output: TensorShape, alignCorners: Bool)
    case overlay(map: TensorShape, alpha: Float)
    case linearImputation(image: TensorShape, variants: Int)

    /// The op name `convlens verify --op` filters by.
    public var op: String {
        switch self {
        case .conv2d: "conv2d"
        case .pool2d(let kind, _, _): kind.rawValue
        case .globalAvgPool2d: "global_avg_pool2d"
        case .activation(let activation, _): activation.name
        case .linear: "linear"
        case .binary(let op, _, _): op.rawValue
        case .channelAffine: "channel_affine"
        case .softmax: "softmax"
        case .concat: "concat"
        case .pad2d: "pad2d"
        case .transpose2d: "transpose2d"
        case .irfft2: "irfft2"
        case .affineResample: "affine_resample"
        case .imagePenalty: "image_penalty"
        case .polarSpectrum: "polar_spectrum"
        case .standardize: "standardize"
        case .accumulateAbsolute: "accumulate_absolute"
        case .adam: "adam"
        case .sgd: "sgd"
        case .diversity: "diversity"
        case .reluGradient(let rule, _): "relu_\(rule.rawValue)"
        case .camChannelWeights: "cam_weights"
        case .camWeightedSum: "cam_weighted_sum"
        case .camPixelwiseSum: "cam_pixel_sum"
        case .camPrincipalProjection: "cam_principal"
        case .minMaxNormalize: "min_max_normalize"
        case .resizeBilinear: "resize_bilinear"
        case .overlay: "overlay"
        case .linearImputation: "linear_imputation"
        }
    }

    /// The passes this op has.
    public var directions: [Direction] {
        switch self {
        case .conv2d, .linear: [.forward, .backwardInput, .backwardWeight]
        case .imagePenalty, .diversity, .reluGradient: [.backward]
        case .adam, .sgd, .accumulateAbsolute: [.step]
        case .camChannelWeights, .camWeightedSum, .camPixelwiseSum, .camPrincipalProjection, .minMaxNormalize, .resizeBilinear, .overlay,
             .linearImputation:
            [.forward]
        default: [.forward, .backward]
        }
    }

    /// The convolution algorithms that compute `direction` of this workload: each is run and compared (none for
    /// other ops).
    public func convAlgorithms(_ direction: Direction) -> [ConvAlgorithm] {
        guard case .conv2d(let input, let weight, _, let p) = self,
              let g = try? Conv2DGeometry(input: input, weight: weight, parameters: p),
              let pass = ConvPass(rawValue: direction.rawValue)
        else { return [] }
        return ConvAlgorithm.supporting(pass, g)
    }

    /// A compact description of the shapes and parameters, e.g. `x2×3×9×11 w8×3×3×3 s1 p1 +bias`.
    public var shapeDescription: String {
        switch self {
        case .conv2d(let input, let weight, let bias, let p):
            return Conv2DParameters.describe(input: input, weight: weight, p) + (bias ? " +bias" : "")
        case .pool2d(_, let input, let p):
            var text = "x\(input) k\(p.kernel) s\(p.stride) p\(p.padding)"
            if p.dilation != Size2D(1) { text += " d\(p.dilation)" }
            if p.ceilMode { text += " ceil" }
            return text + (op == PoolKind.average.rawValue ? (p.countIncludePad ? " incl-pad" : " excl-pad") : "")
        case .globalAvgPool2d(let input): return "x\(input)"
        case .activation(let activation, let shape): return "x\(shape) \(activation)"
        case .linear(let input, let outFeatures, let bias):
            return "x\(input) w\(outFeatures)×\(input[1])" + (bias ? " +bias" : "")
        case .binary(_, let a, let b): return "a\(a) b\(b)"
        case .channelAffine(let shape), .softmax(let shape): return "x\(shape)"
        case .concat(let inputs): return inputs.map { "x\($0)" }.joined(separator: " ")
        case .pad2d(let input, let padding, let value): return "x\(input) p\(padding) value \(value)"
        case .transpose2d(let input), .irfft2(let input): return "x\(input)"
        case .affineResample(let shape, let output, let fill, let scales, let degrees):
            return "x\(shape) → \(output) scale \(scales.lowerBound)–\(scales.upperBound) ±\(degrees)° fill \(fill)"
        case .imagePenalty(let shape, let l2, let tv): return "x\(shape) l2 \(l2) tv \(tv)"
        case .polarSpectrum(let phase): return "φ\(phase) magnitude 1×\(phase[1])×\(phase[2])×\(phase[3])"
        case .standardize(let shape, let epsilon): return "x\(shape) ε \(epsilon)"
        case .accumulateAbsolute(let shape): return "x\(shape), 2 steps"
        case .adam(let count, let h): return "\(count) values, lr \(h.learningRate), 3 steps"
        case .sgd(let count, let rate): return "\(count) values, lr \(rate)"
        case .diversity(let shape, let weight): return "x\(shape) weight \(weight)"
        case .camChannelWeights(let rule, let shape), .camPixelwiseSum(let rule, let shape):
            return "\(rule.rawValue) activation \(shape)"
        case .camWeightedSum(let shape), .camPrincipalProjection(let shape): return "activation \(shape)"
        case .reluGradient(_, let shape): return "x\(shape)"
        case .minMaxNormalize(let shape, let epsilon): return "x\(shape) ε \(epsilon)"
        case .resizeBilinear(let input, let output, let align):
            return "x\(input) → \(output)" + (align ? " aligned corners" : "")
        case .overlay(let map, let alpha): return "map \(map) alpha \(alpha)"
        case .linearImputation(let image, let variants): return "x\(image) \(variants) masks"
        }
    }
}
