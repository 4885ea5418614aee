import Foundation
import TensorOps

extension ReferenceMath {
    public static func activationForward(_ activation: Activation, input x: [Double]) -> [Double] {
        switch activation {
        case .relu: x.map { max($0, 0) }
        case .leakyReLU(let alpha): x.map { $0 > 0 ? $0 : Double(alpha) * $0 }
        case .clip(let low, let high): x.map { min(max($0, Double(low)), Double(high)) }
        case .sigmoid: x.map { 1 / (1 + exp(-$0)) }
        case .hardSwish: x.map { $0 * min(max($0 + 3, 0), 6) / 6 }
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
        case .hardSwish: zip(x, dy).map { x, dy in x < -3 ? 0 : x <= 3 ? dy * (x / 3 + 0.5) : dy }
        }
    }
}
