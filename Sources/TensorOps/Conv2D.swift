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
        guard p.stride.isInRange, p.dilation.isInRange else {
            throw ShapeError(op: op, message: "stride \(p.stride) and dilation \(p.dilation) must be from 1 to "
                + "\(TensorShape.maximumExtent)")
        }
        guard p.padding.isInRange else {
            throw ShapeError(op: op, message: "padding \(p.padding) must be from 0 to \(TensorShape.maximumExtent)")
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

// MARK: - Descriptor

/// The convolution family (Kernels/conv2d.cl and its algorithms' files, `OpenCLBackend+Conv2D`,
/// `ReferenceMath+Conv2D`).
public enum Conv2DOp: OpFamily {
    /// Odd and non-square sizes, stride 2, dilation 2, groups, depthwise, batch 3, 1×1 and 7×7 kernels, asymmetric
    /// padding; then shapes that reach each algorithm's special paths. Every case runs under every algorithm that
    /// computes it.
    public static let parityCases: [any OpCase] = [
        Conv2DCase(input: [2, 3, 9, 11], weight: [8, 3, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        Conv2DCase(input: [1, 4, 13, 10], weight: [6, 4, 3, 3], bias: true,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(1))),
        Conv2DCase(input: [2, 5, 12, 12], weight: [4, 5, 3, 3], bias: false,
                   Conv2DParameters(padding: Padding2D(2), dilation: Size2D(2))),
        Conv2DCase(input: [1, 8, 10, 9], weight: [6, 4, 3, 3], bias: true,
                   Conv2DParameters(padding: Padding2D(1), groups: 2)),
        Conv2DCase(input: [2, 6, 11, 11], weight: [6, 1, 3, 3], bias: true,
                   Conv2DParameters(padding: Padding2D(1), groups: 6)),
        Conv2DCase(input: [1, 4, 9, 8], weight: [8, 1, 3, 3], bias: false,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(1), groups: 4)),
        Conv2DCase(input: [3, 16, 7, 7], weight: [12, 16, 1, 1], bias: true, Conv2DParameters()),
        Conv2DCase(input: [1, 3, 23, 21], weight: [8, 3, 7, 7], bias: false,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(3))),
        Conv2DCase(input: [2, 3, 10, 9], weight: [5, 3, 3, 2], bias: true,
                   Conv2DParameters(stride: Size2D(2, 1), padding: Padding2D(top: 1, left: 0, bottom: 2, right: 1))),
        Conv2DCase(input: [1, 2, 6, 13], weight: [3, 2, 1, 5], bias: false,
                   Conv2DParameters(padding: Padding2D(vertical: 0, horizontal: 2))),
        Conv2DCase(input: [1, 3, 17, 15], weight: [4, 3, 5, 5], bias: true,
                   Conv2DParameters(stride: Size2D(3), padding: Padding2D(2), dilation: Size2D(2, 1))),
        // Matrix-product path: several full register tiles and a tail in both directions, groups, pointwise.
        Conv2DCase(input: [2, 16, 12, 12], weight: [26, 16, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        Conv2DCase(input: [1, 8, 10, 9], weight: [8, 4, 3, 3], bias: true,
                   Conv2DParameters(padding: Padding2D(1), groups: 2)),
        Conv2DCase(input: [2, 32, 8, 8], weight: [16, 32, 1, 1], bias: false, Conv2DParameters()),
        // Pointwise products batched over 5 images (not a multiple of the batch work-group), per group.
        Conv2DCase(input: [5, 8, 6, 7], weight: [10, 4, 1, 1], bias: true, Conv2DParameters(groups: 2)),
        // Output rows of whole matrix-product column tiles (32 and 64 wide), with padding, with dilation, and a 5×5
        // window over two images.
        Conv2DCase(input: [1, 3, 5, 32], weight: [4, 3, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        Conv2DCase(input: [1, 2, 9, 36], weight: [5, 2, 3, 3], bias: false, Conv2DParameters(dilation: Size2D(2))),
        Conv2DCase(input: [2, 3, 6, 64], weight: [6, 3, 5, 5], bias: false, Conv2DParameters(padding: Padding2D(2))),
        // Implicit GEMM: output rows of 30–32 columns in one 32-column tile. Stride 2 (its padded copy split into
        // even and odd columns) with odd and even left padding, a 7×7 stride-2 stem, groups with dilation, and more
        // output channels than one register tile, whose input gradient runs through the same kernel.
        Conv2DCase(input: [1, 6, 20, 64], weight: [10, 6, 3, 3], bias: true,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(1))),
        Conv2DCase(input: [1, 3, 30, 62], weight: [8, 3, 7, 7], bias: false,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(3))),
        Conv2DCase(input: [1, 4, 9, 62], weight: [6, 4, 3, 3], bias: true,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(vertical: 0, horizontal: 2))),
        Conv2DCase(input: [1, 8, 12, 30], weight: [12, 4, 3, 3], bias: false,
                   Conv2DParameters(padding: Padding2D(2), dilation: Size2D(2), groups: 2)),
        Conv2DCase(input: [2, 5, 14, 30], weight: [14, 5, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        // Winograd F(2×2, 3×3) forward and backward-input: 128 channels and 256 tiles or more (where the CPU
        // defaults choose it), odd sizes (partial tiles), asymmetric padding (backward padding 0 and 2), tile rows
        // of 8-tile runs.
        Conv2DCase(input: [2, 128, 23, 23], weight: [128, 128, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        Conv2DCase(input: [1, 128, 36, 30], weight: [128, 128, 3, 3], bias: false,
                   Conv2DParameters(padding: Padding2D(top: 2, left: 0, bottom: 1, right: 2))),
        // A weight gradient summing more positions (66 × 66) than one matmul launch takes (4096 on a CPU).
        Conv2DCase(input: [1, 4, 66, 66], weight: [8, 4, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        // Depthwise rows long enough for the float8 runs: two output channels per input channel, and dilation 2.
        Conv2DCase(input: [1, 3, 6, 29], weight: [6, 1, 3, 3], bias: true,
                   Conv2DParameters(padding: Padding2D(1), groups: 3)),
        Conv2DCase(input: [2, 2, 7, 26], weight: [2, 1, 3, 3], bias: false,
                   Conv2DParameters(padding: Padding2D(2), dilation: Size2D(2), groups: 2)),
        // EfficientNet's 5×5 stride-2 depthwise with TF "same" padding (1 before, 2 after), in the row-buffer kernels.
        Conv2DCase(input: [2, 3, 11, 12], weight: [3, 1, 5, 5], bias: true,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(top: 1, left: 1, bottom: 2, right: 2), groups: 3)),
        // Rows wider than the row-buffer kernels take (the general depthwise kernels).
        Conv2DCase(input: [1, 2, 3, 600], weight: [2, 1, 3, 3], bias: true,
                   Conv2DParameters(padding: Padding2D(1), groups: 2)),
        Conv2DCase(input: [1, 2, 5, 700], weight: [2, 1, 3, 3], bias: false,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(1), groups: 2)),
        // A model's weight, whose flipped copy (the input gradient as a convolution), transposed copy (the input
        // gradient's product, pointwise or through col2im) and Winograd filters are made once: plain and grouped.
        Conv2DCase(input: [1, 5, 10, 9], weight: [7, 5, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1)),
                   constantWeight: true),
        Conv2DCase(input: [2, 6, 9, 11], weight: [8, 3, 3, 3], bias: false,
                   Conv2DParameters(padding: Padding2D(1), groups: 2), constantWeight: true),
        Conv2DCase(input: [2, 6, 5, 7], weight: [8, 3, 1, 1], bias: true, Conv2DParameters(groups: 2),
                   constantWeight: true),
        Conv2DCase(input: [1, 4, 9, 8], weight: [6, 4, 1, 1], bias: false, Conv2DParameters(stride: Size2D(2)),
                   constantWeight: true),
    ] + ConvEpilogueCase.cases

    /// Small enough to difference every input, weight and bias element.
    public static let gradientCases: [any DifferentiableOpCase] = [
        Conv2DCase(input: [2, 2, 5, 6], weight: [3, 2, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        Conv2DCase(input: [1, 2, 7, 6], weight: [2, 2, 3, 2], bias: true,
                   Conv2DParameters(stride: Size2D(2, 1), padding: Padding2D(top: 1, left: 0, bottom: 2, right: 1))),
        Conv2DCase(input: [1, 2, 7, 7], weight: [2, 2, 3, 3], bias: true,
                   Conv2DParameters(stride: Size2D(2), padding: Padding2D(2), dilation: Size2D(2))),
        Conv2DCase(input: [1, 4, 5, 5], weight: [4, 2, 3, 3], bias: true,
                   Conv2DParameters(padding: Padding2D(1), groups: 2)),
        Conv2DCase(input: [2, 3, 5, 4], weight: [6, 1, 3, 3], bias: true,
                   Conv2DParameters(padding: Padding2D(1), groups: 3)),
    ]
}

/// One convolution: inputs x, w (scaled by 1/√fan-in) and the bias when there is one.
public struct Conv2DCase: DifferentiableOpCase {
    public let geometry: Conv2DGeometry
    public let hasBias: Bool
    /// The weight uploaded as a model's constant.
    public let constantWeight: Bool

    init(input: TensorShape, weight: TensorShape, bias: Bool, _ parameters: Conv2DParameters,
         constantWeight: Bool = false) {
        geometry = try! Conv2DGeometry(input: input, weight: weight, parameters: parameters)
        hasBias = bias
        self.constantWeight = constantWeight
    }

    public var op: String { "conv2d" }
    public var directions: [Direction] { [.forward, .backwardInput, .backwardWeight] }
    public var shapeDescription: String {
        "\(geometry)" + (hasBias ? " +bias" : "") + (constantWeight ? " (constant)" : "")
    }
    public var constantInputs: Set<Int> { constantWeight ? [1] : [] }
    public var inputShapes: [TensorShape] { [geometry.input, geometry.weight] + (hasBias ? [[geometry.outChannels]] : []) }
    public var inputNames: [String] { ["input", "weight", "bias"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        let fanIn = Float(geometry.inChannelsPerGroup * geometry.kernelHeight * geometry.kernelWidth)
        return HostTensor.randomNormal(inputShapes[index], scale: index == 1 ? 1 / fanIn.squareRoot() : 1,
                                       using: &random).values
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.conv2dForward(input: inputs[0], weight: inputs[1], bias: hasBias ? inputs[2] : nil, output: output,
                                  parameters: geometry.parameters)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let p = geometry.parameters
        if direction == .backwardInput {
            let gradInput = try backend.makeTensor(geometry.input)
            try backend.conv2dBackwardInput(gradOutput: gradOutput, weight: inputs[1], gradInput: gradInput, parameters: p)
            return [0: gradInput]
        }
        let gradWeight = try backend.makeTensor(geometry.weight)
        let gradBias = hasBias ? try backend.makeTensor([geometry.outChannels]) : nil
        try backend.conv2dBackwardWeight(gradOutput: gradOutput, input: inputs[0], gradWeight: gradWeight,
                                         gradBias: gradBias, parameters: p)
        return [1: gradWeight].merging(gradBias.map { [2: $0] } ?? [:]) { $1 }
    }

    public func convAlgorithms(_ direction: Direction) -> [ConvAlgorithm] {
        ConvPass(rawValue: direction.rawValue).map { ConvAlgorithm.supporting($0, geometry) } ?? []
    }
}

// MARK: - Cost

extension Conv2DGeometry {
    private var multiplyAdds: Int { output.count * inChannelsPerGroup * kernelHeight * kernelWidth }

    public func forwardCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * multiplyAdds + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(input.count, weight.count, hasBias ? outChannels : 0, output.count))
    }

    public var backwardInputCost: OpCost {
        OpCost(flops: 2 * multiplyAdds, bytes: OpCost.traffic(output.count, weight.count, input.count))
    }

    public func backwardWeightCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * multiplyAdds + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(output.count, input.count, weight.count, hasBias ? outChannels : 0))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func conv2dForward(
        input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor, parameters: Conv2DParameters,
        epilogue: ConvEpilogue = .none, residual: Tensor? = nil
    ) throws {
        let checked = Checked(try checkConv2d(
            input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape, parameters: parameters))
        if epilogue.residual != (residual != nil) {
            throw ShapeError(op: "conv2d", message: epilogue.residual ? "the epilogue adds a residual, none was given"
                                                                      : "a residual was given, the epilogue adds none")
        }
        if let residual { try residual.shape.require(output.shape, "residual", of: "conv2d") }
        try conv2dForward(checked, input: input, weight: weight, bias: bias, output: output, parameters: parameters,
                          epilogue: epilogue, residual: residual)
    }

    public func conv2dBackwardInput(
        gradOutput: Tensor, weight: Tensor, gradInput: Tensor, parameters: Conv2DParameters
    ) throws {
        let checked = Checked(try checkConv2d(
            input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape, parameters: parameters))
        try conv2dBackwardInput(
            checked, gradOutput: gradOutput, weight: weight, gradInput: gradInput, parameters: parameters)
    }

    public func conv2dBackwardWeight(
        gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?, parameters: Conv2DParameters
    ) throws {
        let checked = Checked(try checkConv2d(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape,
            parameters: parameters))
        try conv2dBackwardWeight(
            checked, gradOutput: gradOutput, input: input, gradWeight: gradWeight, gradBias: gradBias,
            parameters: parameters)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkConv2d(
        input: TensorShape, weight: TensorShape, bias: TensorShape?, output: TensorShape,
        parameters: Conv2DParameters
    ) throws -> Conv2DGeometry {
        let geometry = try Conv2DGeometry(input: input, weight: weight, parameters: parameters)
        try geometry.requireBias(bias)
        try output.require(geometry.output, "output", of: "conv2d")
        return geometry
    }
}
