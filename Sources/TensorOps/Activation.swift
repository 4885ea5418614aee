/// The element-wise nonlinearities, forward `y = f(x)`, backward `dx = f'(x) · dy`.
public enum Activation: Hashable, Sendable, CustomStringConvertible {
    /// `max(x, 0)`; the gradient at exactly 0 is 0, as in PyTorch.
    case relu
    /// `x > 0 ? x : alpha·x`.
    case leakyReLU(alpha: Float)
    /// `min(max(x, min), max)` (ReLU6 is `clip(0, 6)`); the gradient is 1 strictly inside (min, max), as
    /// PyTorch's hardtanh.
    case clip(min: Float, max: Float)
    /// `1 / (1 + e^−x)`.
    case sigmoid
    /// `x · σ(x)` (SiLU, Swish): the Sigmoid·Mul pair exporters write, fused into one op at import.
    case silu
    /// `x · clip(x + 3, 0, 6) / 6` (MobileNetV3, EfficientNet exports); the derivative is PyTorch's: 0 below −3,
    /// `x/3 + 1/2` on [−3, 3], 1 above.
    case hardSwish
    /// `clip(alpha·x + beta, 0, 1)` (ONNX HardSigmoid; PyTorch's is alpha 1/6, beta 1/2); the derivative is alpha
    /// strictly inside the ramp, as PyTorch's hardsigmoid_backward.
    case hardSigmoid(alpha: Float, beta: Float)
    /// `x · Φ(x)` with Φ the normal CDF (exact, `x/2 · (1 + erf(x/√2))`), or its tanh approximation
    /// `x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))` (ONNX Gelu, `approximate`).
    case gelu(tanh: Bool)
    /// The error function (ONNX Erf; exported Gelu and attention blocks use it).
    case erf
    /// `−x`.
    case negate
    /// `tanh x` (the legacy exporter's Gelu approximation, attention pools).
    case tanh
    /// `|x|`; the gradient at 0 is 0, as PyTorch's sign.
    case abs
    /// `x^exponent` for a constant exponent (ONNX Pow with a constant scalar exponent; Sqrt is 0.5). A fractional
    /// exponent is defined for x > 0 only, as in PyTorch (NaN below).
    case power(exponent: Float)

    /// The op name used in kernels, messages and `convlens verify`.
    public var name: String {
        switch self {
        case .relu: "relu"
        case .leakyReLU: "leaky_relu"
        case .clip: "clip"
        case .sigmoid: "sigmoid"
        case .silu: "silu"
        case .hardSwish: "hard_swish"
        case .hardSigmoid: "hard_sigmoid"
        case .gelu(let tanh): tanh ? "gelu_tanh" : "gelu"
        case .erf: "erf"
        case .negate: "neg"
        case .power: "pow"
        case .tanh: "tanh"
        case .abs: "abs"
        }
    }

    public var description: String {
        switch self {
        case .relu: "relu"
        case .leakyReLU(let alpha): "leaky_relu(\(alpha))"
        case .clip(let low, let high): "clip(\(low), \(high))"
        case .sigmoid: "sigmoid"
        case .silu: "silu"
        case .hardSwish: "hard_swish"
        case .hardSigmoid(let alpha, let beta): "hard_sigmoid(\(alpha), \(beta))"
        case .gelu(let tanh): tanh ? "gelu_tanh" : "gelu"
        case .erf: "erf"
        case .negate: "neg"
        case .power(let exponent): "pow(\(exponent))"
        case .tanh: "tanh"
        case .abs: "abs"
        }
    }
}

/// How gradients pass back through a ReLU: the true derivative, or one of the attribution methods' modified rules
/// (Springenberg et al. for guided backpropagation, Zeiler & Fergus for the deconvnet), as Captum applies them.
public enum ReLUGradient: String, Sendable, CaseIterable {
    /// `dx = dy · [x > 0]`.
    case standard
    /// `dx = relu(dy) · [x > 0]`: only positive gradients, only through active units.
    case guided
    /// `dx = relu(dy)`: only positive gradients, whatever the unit's input.
    case deconvnet
}

// MARK: - Descriptor

/// The activation family (Kernels/activation.cl, `OpenCLBackend+Activation`, `ReferenceMath+Activation`). A new
/// activation is a case of `Activation` with its name, here in `verified` (parity and finite differences follow),
/// its kernels, its reference math and its ONNX lowering.
public enum ActivationOp: OpFamily {
    /// Every activation the parity and gradient checks run, with the parameters models use.
    public static let verified: [Activation] = [
        .relu, .leakyReLU(alpha: 0.1), .clip(min: 0, max: 6), .sigmoid, .silu, .hardSwish, .hardSigmoid(alpha: 1 / 6, beta: 0.5),
        .gelu(tanh: false), .gelu(tanh: true), .erf, .negate, .power(exponent: 2), .power(exponent: 3),
        .power(exponent: 0.5), .tanh, .abs,
    ]

    public static var parityCases: [any OpCase] {
        verified.map { ActivationCase($0, shape: [2, 3, 7, 9]) }
            + ReLUGradient.allCases.map { ReLUGradientCase($0, shape: [2, 3, 5, 7]) }
    }
}

extension Activation {
    /// Inputs where the function or its derivative has a kink: finite-difference inputs keep away from them.
    public var kinks: [Double] {
        switch self {
        case .relu, .leakyReLU: [0]
        case .clip(let low, let high): [Double(low), Double(high)]
        case .sigmoid, .silu: []
        case .hardSwish: [-3, 3]
        case .hardSigmoid(let alpha, let beta): [Double(-beta / alpha), Double((1 - beta) / alpha)]
        case .abs: [0]
        case .gelu, .erf, .negate, .power, .tanh: []
        }
    }

    /// Whether the function is defined for negative inputs (a fractional power is not): test inputs are then
    /// drawn from |x| + 0.1.
    public var acceptsNegativeInputs: Bool {
        if case .power(let exponent) = self { return exponent.rounded() == exponent }
        return true
    }
}

/// One activation over one shape; inputs spread (σ = 4) to both sides of every kink, never within 10⁻³ of one
/// (positive only for a function undefined below zero).
public struct ActivationCase: DifferentiableOpCase {
    public let activation: Activation
    public let shape: TensorShape

    init(_ activation: Activation, shape: TensorShape) {
        self.activation = activation
        self.shape = shape
    }

    public var op: String { activation.name }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(shape) \(activation)" }
    public var inputShapes: [TensorShape] { [shape] }
    public var inputNames: [String] { ["input"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        let values = random.normals(shape.count, scale: 4, avoiding: activation.kinks)
        return activation.acceptsNegativeInputs ? values.map(Float.init) : values.map { Float(abs($0) + 0.1) }
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(shape)
        try backend.activationForward(activation, input: inputs[0], output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(shape)
        try backend.activationBackward(activation, input: inputs[0], gradOutput: gradOutput, gradInput: gradInput)
        return [0: gradInput]
    }
}

/// A ReLU's backward pass under an attribution rule (not a gradient, except `.standard`: no finite differences).
public struct ReLUGradientCase: OpCase {
    public let rule: ReLUGradient
    public let shape: TensorShape

    init(_ rule: ReLUGradient, shape: TensorShape) {
        self.rule = rule
        self.shape = shape
    }

    public var op: String { "relu_\(rule.rawValue)" }
    public var directions: [Direction] { [.backward] }
    public var shapeDescription: String { "x\(shape)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let x = try backend.upload(.randomNormal(shape, using: &random))
        let dy = try backend.upload(.randomNormal(shape, using: &random)), result = try backend.makeTensor(shape)
        try backend.reluBackward(rule, input: x, gradOutput: dy, gradInput: result)
        return [ParityOutput(name: "grad_input", values: try backend.download(result).values)]
    }
}

// MARK: - Cost

extension OpCost {
    /// An activation over `count` elements: one operation each; backward also reads the forward input.
    public static func activation(count: Int, backward: Bool) -> OpCost {
        OpCost(flops: count, bytes: OpCost.traffic(count, count, backward ? count : 0))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func activationForward(_ activation: Activation, input: Tensor, output: Tensor) throws {
        let checked = Checked(try checkSameShapes(
            [input.shape, output.shape], roles: ["input", "output"], of: activation.name))
        try activationForward(checked, activation, input: input, output: output)
    }

    public func activationBackward(
        _ activation: Activation, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        let checked = Checked(try checkSameShapes(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"],
            of: activation.name))
        try activationBackward(checked, activation, input: input, gradOutput: gradOutput, gradInput: gradInput)
    }

    public func reluBackward(_ rule: ReLUGradient, input: Tensor, gradOutput: Tensor, gradInput: Tensor) throws {
        let checked = Checked(try checkSameShapes(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"], of: "relu"))
        try reluBackward(checked, rule, input: input, gradOutput: gradOutput, gradInput: gradInput)
    }
}
