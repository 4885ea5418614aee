import Foundation
import TensorOps

/// MaCo's parameterization stages (Fel et al., 2023): a spectrum from a fixed magnitude and an optimized phase,
/// per-image standardization, and the transparency map's accumulation.
extension ReferenceMath {
    /// `spectrum[…, 2k] = M·cos φ`, `spectrum[…, 2k + 1] = M·sin φ`; the magnitude is shared by every image.
    public static func polarSpectrumForward(magnitude: [Double], phase: [Double], _ g: PolarSpectrumGeometry) -> [Double] {
        var spectrum = [Double](repeating: 0, count: g.spectrum.count)
        for (index, angle) in phase.enumerated() {
            let m = magnitude[index % magnitude.count]
            spectrum[2 * index] = m * cos(angle)
            spectrum[2 * index + 1] = m * sin(angle)
        }
        return spectrum
    }

    /// ∂L/∂φ = M·(cos φ·∂L/∂im − sin φ·∂L/∂re).
    public static func polarSpectrumBackward(magnitude: [Double], phase: [Double], gradSpectrum: [Double],
                                             _ g: PolarSpectrumGeometry) -> [Double] {
        phase.enumerated().map { index, angle in
            magnitude[index % magnitude.count] * (cos(angle) * gradSpectrum[2 * index + 1] - sin(angle) * gradSpectrum[2 * index])
        }
    }

    /// Each image's (x − mean) / (std + ε), std the population standard deviation.
    public static func standardizeForward(input x: [Double], epsilon: StandardizeEpsilon, _ g: StandardizeGeometry)
        -> [Double]
    {
        var y = x
        for row in 0..<g.rows {
            let range = (row * g.elements)..<((row + 1) * g.elements)
            let (mean, deviation) = moments(x[range])
            let s = denominator(deviation, epsilon)
            for i in range { y[i] = (x[i] - mean) / s }
        }
        return y
    }

    /// dx = (g − mean g)/s − (x − μ)·Σ g·(x − μ) · s′ / (n·σ·s²) per row, s′ = ds/dσ: 1 for s = σ + ε, σ/s for
    /// s = √(σ² + ε). The second term is zero for a constant row, whose σ is 0 and whose output does not move with it.
    public static func standardizeBackward(input x: [Double], gradOutput dy: [Double], epsilon: StandardizeEpsilon,
                                           _ g: StandardizeGeometry) -> [Double] {
        var dx = dy
        let n = Double(g.elements)
        for row in 0..<g.rows {
            let range = (row * g.elements)..<((row + 1) * g.elements)
            let (mean, deviation) = moments(x[range])
            let s = denominator(deviation, epsilon)
            let gradientMean = dy[range].reduce(0, +) / n
            let projection = range.reduce(0.0) { $0 + dy[$1] * (x[$1] - mean) }
            let curvature: Double = switch epsilon {
            case .deviation: deviation > 0 ? projection / (n * deviation * s * s) : 0
            case .variance: projection / (n * s * s * s)
            }
            for i in range { dx[i] = (dy[i] - gradientMean) / s - (x[i] - mean) * curvature }
        }
        return dx
    }

    private static func denominator(_ deviation: Double, _ epsilon: StandardizeEpsilon) -> Double {
        switch epsilon {
        case .deviation(let e): deviation + Double(e)
        case .variance(let e): (deviation * deviation + Double(e)).squareRoot()
        }
    }

    /// The mean and the population standard deviation, in two passes.
    private static func moments(_ values: ArraySlice<Double>) -> (mean: Double, deviation: Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }
}
