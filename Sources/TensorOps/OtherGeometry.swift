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

    /// The op name used in kernels, messages and `convlens verify`.
    public var name: String {
        switch self {
        case .relu: "relu"
        case .leakyReLU: "leaky_relu"
        case .clip: "clip"
        case .sigmoid: "sigmoid"
        }
    }

    public var description: String {
        switch self {
        case .relu: "relu"
        case .leakyReLU(let alpha): "leaky_relu(\(alpha))"
        case .clip(let low, let high): "clip(\(low), \(high))"
        case .sigmoid: "sigmoid"
        }
    }
}

/// A fully connected layer's shapes: input N×In, weight Out×In (PyTorch's layout), output N×Out.
public struct LinearGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let weight: TensorShape
    public var output: TensorShape { [batch, outFeatures] }
    public var batch: Int { input[0] }
    public var inFeatures: Int { input[1] }
    public var outFeatures: Int { weight[0] }

    /// - Throws: `ShapeError` unless input is N×In and weight Out×In with matching In, all positive.
    public init(input: TensorShape, weight: TensorShape) throws(ShapeError) {
        let op = "linear"
        try input.requirePositive("input", of: op)
        try weight.requirePositive("weight", of: op)
        guard input.rank == 2, weight.rank == 2, input[1] == weight[1] else {
            throw ShapeError(op: op, message: "input \(input) and weight \(weight) must be N×In and Out×In")
        }
        self.input = input
        self.weight = weight
    }

    public func requireBias(_ bias: TensorShape?) throws(ShapeError) {
        try bias?.require([outFeatures], "bias", of: "linear")
    }
}

/// Channel concatenation: inputs N×Ci×H×W with equal N, H, W; output N×ΣCi×H×W.
public struct ConcatGeometry: Hashable, Sendable {
    public let inputs: [TensorShape]
    public let output: TensorShape

    /// - Throws: `ShapeError` when there is no input or the inputs disagree outside the channel axis.
    public init(inputs: [TensorShape]) throws(ShapeError) {
        let op = "concat"
        guard let first = inputs.first else { throw ShapeError(op: op, message: "needs at least one input") }
        for (index, shape) in inputs.enumerated() {
            try shape.requireNCHW("input \(index)", of: op)
            guard shape[0] == first[0], shape[2] == first[2], shape[3] == first[3] else {
                throw ShapeError(
                    op: op,
                    message: "inputs must agree except in channels: \(inputs.map(\.description).joined(separator: ", "))")
            }
        }
        self.inputs = inputs
        self.output = [first[0], inputs.reduce(0) { $0 + $1[1] }, first[2], first[3]]
    }

    /// The first output channel of each input.
    public var channelOffsets: [Int] {
        var offsets: [Int] = []
        var next = 0
        for shape in inputs {
            offsets.append(next)
            next += shape[1]
        }
        return offsets
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
