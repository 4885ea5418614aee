/// What a convolution applies to each result as it stores it: `y = activation(conv(x, w) + bias + residual)`.
///
/// A model's executor folds the activation after a convolution, and a residual addition before that activation
/// (ResNet's shortcut), into the convolution when nothing else reads the values in between: the ops then cost no
/// launch and no pass over the activation. The sum is taken in that order, as the unfused ops take it, so a
/// fused ReLU or clip gives the unfused result bit for bit.
public struct ConvEpilogue: Hashable, Sendable, CustomStringConvertible {
    /// Adds a tensor of the output's shape before the activation.
    public var residual: Bool
    /// Applied last; nil for none.
    public var activation: Activation?

    public init(residual: Bool = false, activation: Activation? = nil) {
        precondition(activation.map(Self.canApply) ?? true, "\(activation!) is not an epilogue activation")
        self.residual = residual
        self.activation = activation
    }

    public static let none = ConvEpilogue()

    public var isNone: Bool { !residual && activation == nil }

    /// The activations a convolution's store applies: the cheap ones that follow convolutions in CNNs (ReLU, ReLU6
    /// and other clips, leaky ReLU, hard swish, SiLU).
    public static func canApply(_ activation: Activation) -> Bool {
        switch activation {
        case .relu, .leakyReLU, .clip, .hardSwish, .silu: true
        default: false
        }
    }

    /// The epilogue activations whose derivative at the output equals the one at the input, so a pass that is
    /// differentiated may fold them and keep only the output: ReLU, clip and leaky ReLU with a positive slope,
    /// whose derivatives test `x > 0` or `low < x < high` strictly, tests the output passes alike (`y > 0 ⇔ x > 0`,
    /// `low < y < high ⇔ low < x < high`, NaN failing both). Hard swish and SiLU need their input.
    public static func derivativeFollowsOutput(_ activation: Activation) -> Bool {
        switch activation {
        case .relu, .clip: true
        case .leakyReLU(let alpha): alpha > 0
        default: false
        }
    }

    public var description: String {
        ([residual ? "+residual" : nil, activation.map { "\($0)" }] as [String?]).compactMap { $0 }.joined(separator: " ")
    }
}

/// A convolution with an epilogue: every algorithm that computes its forward pass, against the reference's sum and
/// activation in Double (`convlens verify --op conv2d` runs these beside the plain convolutions).
public struct ConvEpilogueCase: OpCase {
    public let geometry: Conv2DGeometry
    public let epilogue: ConvEpilogue

    init(input: TensorShape, weight: TensorShape, _ parameters: Conv2DParameters, _ epilogue: ConvEpilogue) {
        geometry = try! Conv2DGeometry(input: input, weight: weight, parameters: parameters)
        self.epilogue = epilogue
    }

    public var op: String { "conv2d" }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String { "\(geometry) +bias \(epilogue)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let fanIn = Float(geometry.inChannelsPerGroup * geometry.kernelHeight * geometry.kernelWidth)
        let input = try backend.upload(HostTensor.randomNormal(geometry.input, using: &random))
        let weight = try backend.upload(HostTensor.randomNormal(geometry.weight, scale: 1 / fanIn.squareRoot(),
                                                                using: &random))
        let bias = try backend.upload(HostTensor.randomNormal([geometry.outChannels], using: &random))
        let residual = epilogue.residual ? try backend.upload(HostTensor.randomNormal(geometry.output, using: &random)) : nil
        let output = try backend.makeTensor(geometry.output)
        try backend.conv2dForward(input: input, weight: weight, bias: bias, output: output,
                                  parameters: geometry.parameters, epilogue: epilogue, residual: residual)
        return [ParityOutput(name: "output", values: try backend.download(output).values)]
    }

    public func convAlgorithms(_ direction: Direction) -> [ConvAlgorithm] {
        ConvPass(rawValue: direction.rawValue).map { ConvAlgorithm.supporting($0, geometry) } ?? []
    }

    /// Each epilogue activation, with and without a residual, on the stores of each algorithm: whole and partial
    /// register tiles (rows of 12 and 63 outputs), a pointwise product over a batch, stride 2, depthwise.
    static let cases: [ConvEpilogueCase] = [
        ConvEpilogueCase(input: [2, 16, 12, 12], weight: [26, 16, 3, 3], Conv2DParameters(padding: Padding2D(1)),
                         ConvEpilogue(residual: true, activation: .relu)),
        ConvEpilogueCase(input: [1, 5, 7, 9], weight: [7, 5, 3, 3], Conv2DParameters(padding: Padding2D(1)),
                         ConvEpilogue(residual: true, activation: .clip(min: 0, max: 6))),
        ConvEpilogueCase(input: [3, 16, 7, 7], weight: [12, 16, 1, 1], Conv2DParameters(),
                         ConvEpilogue(activation: .clip(min: -0.5, max: 0.5))),
        ConvEpilogueCase(input: [1, 6, 20, 64], weight: [10, 6, 3, 3],
                         Conv2DParameters(stride: Size2D(2), padding: Padding2D(1)),
                         ConvEpilogue(residual: true, activation: .leakyReLU(alpha: 0.1))),
        ConvEpilogueCase(input: [2, 8, 9, 30], weight: [12, 8, 1, 1], Conv2DParameters(), ConvEpilogue(residual: true)),
        ConvEpilogueCase(input: [2, 6, 11, 11], weight: [6, 1, 3, 3], Conv2DParameters(padding: Padding2D(1), groups: 6),
                         ConvEpilogue(residual: true, activation: .hardSwish)),
        ConvEpilogueCase(input: [1, 8, 10, 34], weight: [9, 8, 3, 3], Conv2DParameters(padding: Padding2D(1)),
                         ConvEpilogue(activation: .silu)),
        ConvEpilogueCase(input: [1, 4, 9, 8], weight: [8, 1, 3, 3],
                         Conv2DParameters(stride: Size2D(2), padding: Padding2D(1), groups: 4),
                         ConvEpilogue(activation: .relu)),
    ]
}
