import Foundation
import TensorOps

/// The constant tables the image parameterization multiplies by, computed on the host once per run.
enum ParameterizationTables {
    /// log(p / (1 − p)), with p kept `saturationMargin` away from 0 and 1 so that it stays finite.
    static func logit(_ p: Double) -> Double {
        let clamped = min(max(p, saturationMargin), 1 - saturationMargin)
        return log(clamped / (1 - clamped))
    }

    static let saturationMargin = 1e-4

    /// Lucid's colour-correlation square root (columns normalized by the largest column norm), applied as
    /// out[c] = Σ_d M[c, d] · in[d].
    static var colorCorrelation: [Float] {
        let svdSquareRoot: [Float] = [0.26, 0.09, 0.02, 0.27, 0.00, -0.05, 0.27, -0.09, 0.03]
        let columnNorms = (0..<3).map { column in
            (0..<3).map { svdSquareRoot[$0 * 3 + column] * svdSquareRoot[$0 * 3 + column] }.reduce(0, +).squareRoot()
        }
        let largest = columnNorms.max() ?? 1
        return svdSquareRoot.map { $0 / largest }
    }

    /// Lucid's spectrum scale 1 / max(f, 1/max(H, W)) · √(H·W), divided by 4 as Lucid divides the image, for each
    /// of the spectrum's H × 2F interleaved entries.
    static func spectrumScale(height: Int, width: Int) -> HostTensor {
        let columns = SpectrumGeometry.frequencyColumns(width: width)
        func frequency(_ index: Int, _ size: Int) -> Double {
            Double(index < (size + 1) / 2 ? index : index - size) / Double(size)
        }
        var values: [Float] = []
        for row in 0..<height {
            for column in 0..<columns {
                let fy = frequency(row, height), fx = Double(column) / Double(width)
                let f = max((fx * fx + fy * fy).squareRoot(), 1 / Double(max(height, width)))
                let scale = Float((Double(height * width)).squareRoot() / f / 4)
                values += [scale, scale]
            }
        }
        return HostTensor(shape: [1, 1, height, 2 * columns], values: values)
    }

    /// exp(−2π²σ²f²) for each interleaved spectrum entry: a Gaussian blur of σ pixels in the frequency domain.
    static func gaussianResponse(height: Int, width: Int, sigma: Float) -> HostTensor {
        let columns = SpectrumGeometry.frequencyColumns(width: width)
        var values: [Float] = []
        for row in 0..<height {
            let fy = Double(row < (height + 1) / 2 ? row : row - height) / Double(height)
            for column in 0..<columns {
                let fx = Double(column) / Double(width)
                let response = Float(exp(-2 * Double.pi * Double.pi * Double(sigma * sigma) * (fx * fx + fy * fy)))
                values += [response, response]
            }
        }
        return HostTensor(shape: [1, 1, height, 2 * columns], values: values)
    }
}
