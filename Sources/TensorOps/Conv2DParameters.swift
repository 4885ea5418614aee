/// The hyper-parameters of a 2-D convolution (PyTorch/ONNX semantics: cross-correlation).
public struct Conv2DParameters: Hashable, Sendable {
    public var stride: Size2D
    public var padding: Padding2D
    public var dilation: Size2D
    public var groups: Int

    public init(stride: Size2D = Size2D(1), padding: Padding2D = .zero, dilation: Size2D = Size2D(1), groups: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }
}

/// A convolution's shapes, checked once: input N×C×H×W, weight Cout×(C/groups)×KH×KW, output N×Cout×OH×OW.
///
/// Both backends build their launches from this, so every impossible combination is rejected here, with the
/// shapes in the message, before any device work.
public struct Conv2DGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let weight: TensorShape
    public let output: TensorShape
    public let parameters: Conv2DParameters

    public var batch: Int { input[0] }
    public var inChannels: Int { input[1] }
    public var inHeight: Int { input[2] }
    public var inWidth: Int { input[3] }
    public var outChannels: Int { weight[0] }
    public var kernelHeight: Int { weight[2] }
    public var kernelWidth: Int { weight[3] }
    public var outHeight: Int { output[2] }
    public var outWidth: Int { output[3] }
    public var groups: Int { parameters.groups }
    /// Input channels each group reads (= weight dimension 1).
    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }

    /// - Throws: `ShapeError` when a dimension is zero, channels are not divisible by groups, the weight's input
    ///   channels disagree with the input, a stride/dilation is not positive, padding is negative, or the dilated
    ///   kernel is larger than the padded input.
    public init(input: TensorShape, weight: TensorShape, parameters: Conv2DParameters) throws(ShapeError) {
        let op = "conv2d"
        try input.requireNCHW("input", of: op)
        try weight.requireNCHW("weight", of: op)
        let p = parameters
        guard p.stride.isPositive, p.dilation.isPositive else {
            throw ShapeError(op: op, message: "stride \(p.stride) and dilation \(p.dilation) must be positive")
        }
        guard p.padding.isNonNegative else {
            throw ShapeError(op: op, message: "padding \(p.padding) must not be negative")
        }
        guard p.groups > 0, input[1] % p.groups == 0, weight[0] % p.groups == 0 else {
            throw ShapeError(
                op: op,
                message: "input channels \(input[1]) and output channels \(weight[0]) must both be divisible by "
                    + "groups \(p.groups) (input \(input), weight \(weight))")
        }
        guard weight[1] * p.groups == input[1] else {
            throw ShapeError(
                op: op,
                message: "weight \(weight) expects \(weight[1] * p.groups) input channels with groups \(p.groups), "
                    + "input \(input) has \(input[1])")
        }
        let outHeight = try slidingWindowCount(
            extent: input[2] + p.padding.top + p.padding.bottom, kernel: weight[2], stride: p.stride.height,
            dilation: p.dilation.height, op: op, what: "kernel \(weight[2])x\(weight[3]) vs input \(input)")
        let outWidth = try slidingWindowCount(
            extent: input[3] + p.padding.left + p.padding.right, kernel: weight[3], stride: p.stride.width,
            dilation: p.dilation.width, op: op, what: "kernel \(weight[2])x\(weight[3]) vs input \(input)")
        self.input = input
        self.weight = weight
        self.parameters = p
        self.output = [input[0], weight[0], outHeight, outWidth]
    }

    /// Throws unless `bias` is nil or a vector of `outChannels`.
    public func requireBias(_ bias: TensorShape?) throws(ShapeError) {
        try bias?.require([outChannels], "bias", of: "conv2d")
    }

}

/// Output positions of a window of `kernel` taps spaced `dilation` apart, sliding by `stride` over `extent`
/// (padding already added), rounding down. Throws when the window does not fit at all.
func slidingWindowCount(extent: Int, kernel: Int, stride: Int, dilation: Int, op: String, what: String)
    throws(ShapeError) -> Int
{
    let span = dilation * (kernel - 1) + 1
    guard span <= extent else {
        throw ShapeError(op: op, message: "dilated kernel span \(span) exceeds padded extent \(extent) (\(what))")
    }
    return (extent - span) / stride + 1
}

extension Conv2DParameters {
    /// e.g. `x2×3×9×11 w8×3×3×3 s1 p1`, with dilation and groups when not 1.
    public static func describe(input: TensorShape, weight: TensorShape, _ p: Conv2DParameters) -> String {
        var text = "x\(input) w\(weight) s\(p.stride) p\(p.padding)"
        if p.dilation != Size2D(1) { text += " d\(p.dilation)" }
        if p.groups != 1 { text += " g\(p.groups)" }
        return text
    }
}

extension Conv2DGeometry: CustomStringConvertible {
    public var description: String { Conv2DParameters.describe(input: input, weight: weight, parameters) }
}
