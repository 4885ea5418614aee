import Foundation
import TensorOps

/// Carries an image from one octave to the next: resized to the next size, then expressed in the next octave's
/// parameterization so that rendering the parameter gives the resized image back.
///
/// The inverse of `ImageParameterization.render` stage by stage, on the host in Double: the logit undoes the
/// sigmoid, subtracting logit(start colour) undoes the centring offset, the colour matrix's inverse undoes the decorrelation, and a forward real DFT (numpy's `rfft2`
/// convention, so `irfft2` returns the image) divided by the spectrum scale undoes the FFT parameterization. It
/// runs once between octaves, never inside a step.
enum OctaveTransfer {
    /// The parameter that renders `image` (N×C×h×w in [0, 1]) resized to `size` × `size`.
    static func parameter(for image: HostTensor, size: Int, settings: FilterVisualizationSettings) -> HostTensor {
        let (count, channels) = (image.shape[0], image.shape[1])
        let planeSize = image.shape[2] * image.shape[3]
        var linear: [Double] = []
        linear.reserveCapacity(count * channels * size * size)
        for plane in 0..<count * channels {
            let source = Array(image.values[plane * planeSize..<(plane + 1) * planeSize])
            let resized = resizeBilinear(source, height: image.shape[2], width: image.shape[3], toHeight: size, toWidth: size)
            let centre = ParameterizationTables.logit(Double(settings.startColour[plane % channels]))
            linear += resized.map { ParameterizationTables.logit(Double($0)) - centre }
        }
        let shape: TensorShape = [count, channels, size, size]
        if settings.decorrelate && channels == 3 {
            linear = mixChannels(linear, shape: shape, matrix: inverse3x3(ParameterizationTables.colorCorrelation))
        }
        guard settings.parameterization == .fft else { return HostTensor(shape: shape, values: linear.map(Float.init)) }
        let spectrum = rfft2(linear, shape: shape)
        let scale = ParameterizationTables.spectrumScale(height: size, width: size).values
        let values = spectrum.enumerated().map { index, value in Float(value / Double(scale[index % scale.count])) }
        return HostTensor(shape: SpectrumGeometry.spectrumShape(for: shape), values: values)
    }

    /// out[c] = Σ_d M[c, d] · in[d] at every pixel of every image.
    static func mixChannels(_ values: [Double], shape: TensorShape, matrix: [Double]) -> [Double] {
        let planeSize = shape[2] * shape[3]
        var mixed = [Double](repeating: 0, count: values.count)
        for image in 0..<shape[0] {
            let base = image * 3 * planeSize
            for c in 0..<3 {
                for d in 0..<3 {
                    let weight = matrix[c * 3 + d]
                    for pixel in 0..<planeSize { mixed[base + c * planeSize + pixel] += weight * values[base + d * planeSize + pixel] }
                }
            }
        }
        return mixed
    }

    /// The inverse of a row-major 3×3 matrix (the colour correlation is well conditioned).
    static func inverse3x3(_ m: [Float]) -> [Double] {
        let a = m.map(Double.init)
        let cofactors = [
            a[4] * a[8] - a[5] * a[7], a[2] * a[7] - a[1] * a[8], a[1] * a[5] - a[2] * a[4],
            a[5] * a[6] - a[3] * a[8], a[0] * a[8] - a[2] * a[6], a[2] * a[3] - a[0] * a[5],
            a[3] * a[7] - a[4] * a[6], a[1] * a[6] - a[0] * a[7], a[0] * a[4] - a[1] * a[3],
        ]
        let determinant = a[0] * cofactors[0] + a[1] * cofactors[3] + a[2] * cofactors[6]
        return cofactors.map { $0 / determinant }
    }

    /// numpy.fft.rfft2 of each H×W plane: W/2 + 1 complex columns, real and imaginary parts interleaved.
    static func rfft2(_ x: [Double], shape: TensorShape) -> [Double] {
        let (h, w) = (shape[2], shape[3])
        let f = SpectrumGeometry.frequencyColumns(width: w)
        let rowAngles = (0..<w).map { 2 * Double.pi * Double($0) / Double(w) }
        let (rowCos, rowSin) = (rowAngles.map(cos), rowAngles.map(sin))
        let columnAngles = (0..<h).map { 2 * Double.pi * Double($0) / Double(h) }
        let (columnCos, columnSin) = (columnAngles.map(cos), columnAngles.map(sin))
        var spectrum = [Double](repeating: 0, count: shape[0] * shape[1] * h * 2 * f)
        for plane in 0..<shape[0] * shape[1] {
            // Real DFT along each row: t[y, k] = Σ_x x[y, x] e^{−2πi kx/W}.
            var t = [Double](repeating: 0, count: h * 2 * f)
            for y in 0..<h {
                for k in 0..<f {
                    var (re, im) = (0.0, 0.0)
                    for column in 0..<w {
                        let value = x[(plane * h + y) * w + column], turn = (k * column) % w
                        re += value * rowCos[turn]
                        im -= value * rowSin[turn]
                    }
                    (t[(y * f + k) * 2], t[(y * f + k) * 2 + 1]) = (re, im)
                }
            }
            // Complex DFT along each column: X[j, k] = Σ_y t[y, k] e^{−2πi jy/H}.
            let base = plane * h * 2 * f
            for j in 0..<h {
                for k in 0..<f {
                    var (re, im) = (0.0, 0.0)
                    for y in 0..<h {
                        let (a, b) = (t[(y * f + k) * 2], t[(y * f + k) * 2 + 1])
                        let turn = (j * y) % h
                        re += a * columnCos[turn] + b * columnSin[turn]
                        im += b * columnCos[turn] - a * columnSin[turn]
                    }
                    (spectrum[base + (j * f + k) * 2], spectrum[base + (j * f + k) * 2 + 1]) = (re, im)
                }
            }
        }
        return spectrum
    }
}
