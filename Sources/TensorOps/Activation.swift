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
