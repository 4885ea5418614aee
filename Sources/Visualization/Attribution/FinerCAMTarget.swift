import Foundation
import TensorOps

/// Finer-CAM's target (pytorch-grad-cam's `FinerCAM` with its `FinerWeightedTarget`): the class's score against the
/// classes the model finds most like it, T = Σ_j p_j (s_c − α s_j) / (Σ_j p_j + 10⁻⁹), with p the softmax of the
/// outputs s and j over the `comparisons` classes whose scores are nearest s_c (|s_j − s_c| ascending, ties by class
/// index). The gradient flows through p as well, so the backward pass starts from
/// ∂T/∂s rather than a one-hot row.
public struct FinerCAMTarget: Sendable {
    /// α: how strongly the similar classes' scores are subtracted (1 in pytorch-grad-cam).
    public var comparisonStrength: Double = 1
    /// How many of the nearest classes to compare with (pytorch-grad-cam's [1, 2, 3]), fewer when the model has
    /// fewer other classes.
    public var comparisons = 3

    public init(comparisonStrength: Double = 1, comparisons: Int = 3) {
        (self.comparisonStrength, self.comparisons) = (comparisonStrength, comparisons)
    }

    /// The classes compared with `target` in the output row `scores`.
    func comparedClasses(_ scores: [Float], target: Int) -> [Int] {
        let distance = scores.map { abs(Double($0) - Double(scores[target])) }
        let order = scores.indices.sorted { (distance[$0], $0) < (distance[$1], $1) }
        // The nearest is the target itself (distance 0), as pytorch-grad-cam's main category.
        return Array(order.filter { $0 != target }.prefix(min(comparisons, scores.count - 1)))
    }

    /// ∂T/∂s for one output row, in double precision.
    func gradient(_ row: [Float], target: Int) -> [Float] {
        let s = row.map(Double.init), compared = comparedClasses(row, target: target)
        let largest = s.max() ?? 0
        let exponentials = s.map { exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        let p = exponentials.map { $0 / total }
        let alpha = comparisonStrength
        let weight = compared.reduce(0) { $0 + p[$1] }  // Σ_j p_j
        let numerator = compared.reduce(0) { $0 + p[$1] * (s[target] - alpha * s[$1]) }
        let denominator = weight + 1e-9
        return s.indices.map { k in
            // ∂p_j/∂s_k = p_j (δ_jk − p_k)
            var dNumerator = compared.reduce(0) { sum, j in
                sum + p[j] * ((j == k ? 1 : 0) - p[k]) * (s[target] - alpha * s[j])
            }
            if k == target { dNumerator += weight }
            if compared.contains(k) { dNumerator -= alpha * p[k] }
            let dDenominator = (compared.contains(k) ? p[k] : 0) - p[k] * weight
            return Float((dNumerator * denominator - numerator * dDenominator) / (denominator * denominator))
        }
    }
}
