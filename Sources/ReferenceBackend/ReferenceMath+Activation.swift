import Foundation
import TensorOps

extension ReferenceMath {
    public static func activationForward(_ activation: Activation, input x: [Double]) -> [Double] {
        switch activation {
        case .relu: x.map { max($0, 0) }
        case .leakyReLU(let alpha): x.map { $0 > 0 ? $0 : Double(alpha) * $0 }
        case .clip(let low, let high): x.map { min(max($0, Double(low)), Double(high)) }
        case .sigmoid: x.map { 1 / (1 + exp(-$0)) }
        case .silu: x.map { $0 / (1 + exp(-$0)) }
        case .hardSwish: x.map { $0 * min(max($0 + 3, 0), 6) / 6 }
        case .hardSigmoid(let alpha, let beta): x.map { min(max(Double(alpha) * $0 + Double(beta), 0), 1) }
        case .gelu(tanh: false): x.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }
        case .gelu(tanh: true): x.map { 0.5 * $0 * (1 + tanh(geluTanhArgument($0))) }
        case .erf: x.map { Foundation.erf($0) }
        case .negate: x.map { -$0 }
        case .power(let exponent): x.map { power($0, Double(exponent)) }
        case .tanh: x.map { Foundation.tanh($0) }
        case .abs: x.map { Swift.abs($0) }
        }
    }

    public static func activationBackward(_ activation: Activation, input x: [Double], gradOutput dy: [Double])
        -> [Double]
    {
        switch activation {
        case .relu: zip(x, dy).map { $0 > 0 ? $1 : 0 }
        case .leakyReLU(let alpha): zip(x, dy).map { $0 > 0 ? $1 : Double(alpha) * $1 }
        case .clip(let low, let high): zip(x, dy).map { $0 > Double(low) && $0 < Double(high) ? $1 : 0 }
        case .sigmoid:
            zip(x, dy).map { x, dy in
                let s = 1 / (1 + exp(-x))
                return dy * s * (1 - s)
            }
        case .silu:
            zip(x, dy).map { x, dy in
                let s = 1 / (1 + exp(-x))
                return dy * s * (1 + x * (1 - s))
            }
        case .hardSwish: zip(x, dy).map { x, dy in x < -3 ? 0 : x <= 3 ? dy * (x / 3 + 0.5) : dy }
        case .hardSigmoid(let alpha, let beta):
            zip(x, dy).map { x, dy in
                let ramp = Double(alpha) * x + Double(beta)
                return ramp > 0 && ramp < 1 ? dy * Double(alpha) : 0
            }
        case .gelu(tanh: false):
            // Φ(x) + x·φ(x).
            zip(x, dy).map { x, dy in
                dy * (0.5 * (1 + Foundation.erf(x / 2.0.squareRoot())) + x * exp(-x * x / 2) / (2 * Double.pi).squareRoot())
            }
        case .gelu(tanh: true):
            zip(x, dy).map { x, dy in
                let t = tanh(geluTanhArgument(x))
                let inner = (2 / Double.pi).squareRoot() * (1 + 3 * 0.044715 * x * x)
                return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)
            }
        case .erf: zip(x, dy).map { x, dy in dy * 2 / Double.pi.squareRoot() * exp(-x * x) }
        case .negate: dy.map { -$0 }
        case .power(let exponent):
            zip(x, dy).map { x, dy in dy * Double(exponent) * power(x, Double(exponent) - 1) }
        case .tanh:
            zip(x, dy).map { x, dy in
                let t = Foundation.tanh(x)
                return dy * (1 - t * t)
            }
        case .abs: zip(x, dy).map { x, dy in x > 0 ? dy : x < 0 ? -dy : 0 }
        }
    }

    /// `x^p`, exact for the integer and half exponents models use.
    private static func power(_ x: Double, _ p: Double) -> Double {
        p == 0.5 ? x.squareRoot() : pow(x, p)
    }

    /// √(2/π)·(x + 0.044715·x³), the argument of Gelu's tanh approximation.
    private static func geluTanhArgument(_ x: Double) -> Double {
        (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
    }
}
