import Foundation
import TensorOps

extension ReferenceMath {
    /// numpy.fft.irfft2 of each plane: spectra with interleaved real and imaginary parts, H×F complex columns.
    public static func irfft2Forward(spectrum s: [Double], _ g: SpectrumGeometry) -> [Double] {
        let (h, w, f) = (g.height, g.width, g.columns)
        var x = [Double](repeating: 0, count: g.image.count)
        for plane in 0..<g.planes {
            let base = plane * h * 2 * f
            // Columns: complex inverse DFT along H.
            var t = [Double](repeating: 0, count: h * 2 * f)
            for row in 0..<h {
                for k in 0..<f {
                    for j in 0..<h {
                        let angle = 2 * Double.pi * Double((j * row) % h) / Double(h)
                        let (a, b) = (s[base + (j * f + k) * 2], s[base + (j * f + k) * 2 + 1])
                        t[(row * f + k) * 2] += (a * cos(angle) - b * sin(angle)) / Double(h)
                        t[(row * f + k) * 2 + 1] += (a * sin(angle) + b * cos(angle)) / Double(h)
                    }
                }
            }
            // Rows: the real inverse DFT along W, each column but the DC and Nyquist ones counted twice.
            for row in 0..<h {
                for column in 0..<w {
                    var sum = 0.0
                    for k in 0..<f {
                        let angle = 2 * Double.pi * Double((k * column) % w) / Double(w)
                        sum += hermitianWeight(k, w) * (t[(row * f + k) * 2] * cos(angle) - t[(row * f + k) * 2 + 1] * sin(angle))
                    }
                    x[(plane * h + row) * w + column] = sum / Double(w)
                }
            }
        }
        return x
    }

    /// The adjoint of `irfft2Forward`, built from the same two stages transposed.
    public static func irfft2Backward(gradOutput dx: [Double], _ g: SpectrumGeometry) -> [Double] {
        let (h, w, f) = (g.height, g.width, g.columns)
        var ds = [Double](repeating: 0, count: g.spectrum.count)
        for plane in 0..<g.planes {
            var dt = [Double](repeating: 0, count: h * 2 * f)
            for row in 0..<h {
                for k in 0..<f {
                    for column in 0..<w {
                        let angle = 2 * Double.pi * Double((k * column) % w) / Double(w)
                        let gradient = dx[(plane * h + row) * w + column] * hermitianWeight(k, w) / Double(w)
                        dt[(row * f + k) * 2] += gradient * cos(angle)
                        dt[(row * f + k) * 2 + 1] -= gradient * sin(angle)
                    }
                }
            }
            let base = plane * h * 2 * f
            for j in 0..<h {
                for k in 0..<f {
                    for row in 0..<h {
                        let angle = 2 * Double.pi * Double((j * row) % h) / Double(h)
                        let (a, b) = (dt[(row * f + k) * 2], dt[(row * f + k) * 2 + 1])
                        ds[base + (j * f + k) * 2] += (a * cos(angle) + b * sin(angle)) / Double(h)
                        ds[base + (j * f + k) * 2 + 1] += (b * cos(angle) - a * sin(angle)) / Double(h)
                    }
                }
            }
        }
        return ds
    }

    static func hermitianWeight(_ k: Int, _ width: Int) -> Double {
        k == 0 || 2 * k == width ? 1 : 2
    }

    /// Bilinear resampling through per-output-image affine maps (`AffineResampleGeometry`), `fill` outside the input.
    public static func affineResampleForward(input x: [Double], maps: [AffineMap], fill: Double,
                                             _ g: AffineResampleGeometry) -> [Double]
    {
        var y = [Double](repeating: 0, count: g.output.count)
        forEachBilinearTap(maps: maps, g) { outputIndex, inputIndex, weight in
            y[outputIndex] += weight * (inputIndex.map { x[$0] } ?? fill)
        }
        return y
    }

    /// Scatters each output gradient to the input pixels its sample read, with the same bilinear weights.
    public static func affineResampleBackward(gradOutput dy: [Double], maps: [AffineMap], _ g: AffineResampleGeometry)
        -> [Double]
    {
        var dx = [Double](repeating: 0, count: g.input.count)
        forEachBilinearTap(maps: maps, g) { outputIndex, inputIndex, weight in
            if let inputIndex { dx[inputIndex] += weight * dy[outputIndex] }
        }
        return dx
    }

    /// Calls `body(outputIndex, inputIndex or nil outside, weight)` for the four bilinear taps of every output pixel.
    static func forEachBilinearTap(maps: [AffineMap], _ g: AffineResampleGeometry, _ body: (Int, Int?, Double) -> Void) {
        let (channels, height, width) = (g.input[1], g.input[2], g.input[3])
        let (outHeight, outWidth) = (g.output[2], g.output[3])
        let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
        let (outCX, outCY) = (Double(outWidth - 1) / 2, Double(outHeight - 1) / 2)
        for plane in 0..<(g.output[0] * channels) {
            let (image, channel) = plane.quotientAndRemainder(dividingBy: channels)
            let m = maps[image]
            let inputPlane = (image / g.copies) * channels + channel
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    let (px, py) = (Double(ox) - outCX, Double(oy) - outCY)
                    // Sample points computed in float32, as the kernel does, so both pick the same taps.
                    let sx = Double(m.a * Float(px) + m.b * Float(py) + m.tx + Float(cx))
                    let sy = Double(m.c * Float(px) + m.d * Float(py) + m.ty + Float(cy))
                    let (x0, y0) = (Int(sx.rounded(.down)), Int(sy.rounded(.down)))
                    let (fx, fy) = (sx - Double(x0), sy - Double(y0))
                    let outputIndex = (plane * outHeight + oy) * outWidth + ox
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let (ix, iy) = (x0 + dx, y0 + dy)
                        let weight = (dx == 1 ? fx : 1 - fx) * (dy == 1 ? fy : 1 - fy)
                        let inside = ix >= 0 && ix < width && iy >= 0 && iy < height
                        body(outputIndex, inside ? (inputPlane * height + iy) * width + ix : nil, weight)
                    }
                }
            }
        }
    }

    /// `g − ∂/∂x (l2·Σ(x − ½)² + tv·TV(x))` with anisotropic L1 total variation.
    public static func imagePenaltyBackward(image x: [Double], gradient g: [Double], l2: Double, tv: Double,
                                            shape: TensorShape) -> [Double] {
        let (height, width) = (shape[2], shape[3])
        func sign(_ v: Double) -> Double { v > 0 ? 1 : (v < 0 ? -1 : 0) }
        return x.indices.map { i in
            let (h, w) = ((i / width) % height, i % width)
            var total = 0.0
            if w > 0 { total += sign(x[i] - x[i - 1]) }
            if w < width - 1 { total -= sign(x[i + 1] - x[i]) }
            if h > 0 { total += sign(x[i] - x[i - width]) }
            if h < height - 1 { total -= sign(x[i + width] - x[i]) }
            return g[i] - l2 * 2 * (x[i] - 0.5) - tv * total
        }
    }
}

extension ReferenceMath {
    /// ∂D/∂activation of Lucid's diversity D = (1/N) Σ_{n≠m} <ĝ_n, ĝ_m>, ĝ_n the normalized channel Gram matrix.
    public static func diversityGradient(activation a: [Double], _ g: DiversityGeometry) -> [Double] {
        let (n, c, p) = (g.images, g.channels, g.positions)
        let grams: [[Double]] = (0..<n).map { image in
            (0..<(c * c)).map { e in
                let (row, column) = (e / c, e % c)
                return (0..<p).reduce(0) { $0 + a[(image * c + row) * p + $1] * a[(image * c + column) * p + $1] }
            }
        }
        let norms = grams.map { max($0.reduce(0) { $0 + $1 * $1 }, 1e-10).squareRoot() }
        let units = zip(grams, norms).map { gram, norm in gram.map { $0 / norm } }
        let total = (0..<(c * c)).map { e in units.reduce(0) { $0 + $1[e] } }
        var gradient = [Double](repeating: 0, count: a.count)
        for image in 0..<n {
            let dUnit = (0..<(c * c)).map { 2 / Double(n) * (total[$0] - units[image][$0]) }
            let projection = zip(dUnit, units[image]).reduce(0) { $0 + $1.0 * $1.1 }
            let dGram = (0..<(c * c)).map { (dUnit[$0] - units[image][$0] * projection) / norms[image] }
            for channel in 0..<c {
                for position in 0..<p {
                    let sum = (0..<c).reduce(0.0) { $0 + dGram[channel * c + $1] * a[(image * c + $1) * p + position] }
                    gradient[(image * c + channel) * p + position] = 2 * sum
                }
            }
        }
        return gradient
    }

    /// D itself, for finite-difference checks.
    public static func diversity(activation a: [Double], _ g: DiversityGeometry) -> Double {
        let (n, c, p) = (g.images, g.channels, g.positions)
        let units: [[Double]] = (0..<n).map { image in
            let gram = (0..<(c * c)).map { e in
                (0..<p).reduce(0) { $0 + a[(image * c + e / c) * p + $1] * a[(image * c + e % c) * p + $1] }
            }
            let norm = max(gram.reduce(0) { $0 + $1 * $1 }, 1e-10).squareRoot()
            return gram.map { $0 / norm }
        }
        var total = 0.0
        for i in 0..<n { for j in 0..<n where i != j { total += zip(units[i], units[j]).reduce(0) { $0 + $1.0 * $1.1 } } }
        return total / Double(n)
    }
}

extension ReferenceMath {
    /// Mahendran & Vedaldi's prior R (`NaturalImagePrior`) of each image of `x` (N×C×H×W) about `center`.
    public static func naturalPrior(image x: [Double], center: [Double], prior: NaturalImagePrior, shape: TensorShape) -> [Double] {
        let (channels, height, width) = (shape[1], shape[2], shape[3])
        let (alpha, beta) = (Double(prior.alpha), Double(prior.beta))
        let coefficients = prior.coefficients(height: height, width: width)
        let (plane, size) = (height * width, channels * height * width)
        return (0..<shape[0]).map { image in
            var norm = 0.0, variation = 0.0
            for pixel in 0..<plane {
                let squared = (0..<channels).reduce(0.0) { total, channel in
                    let u = x[image * size + channel * plane + pixel] - center[channel]
                    return total + u * u
                }
                norm += pow(squared, alpha / 2)
            }
            for offset in 0..<size {
                let i = image * size + offset
                let (h, w) = ((offset / width) % height, offset % width)
                let dx = w < width - 1 ? x[i + 1] - x[i] : 0, dy = h < height - 1 ? x[i + width] - x[i] : 0
                variation += pow(dx * dx + dy * dy, beta / 2)
            }
            return coefficients.alpha * norm + coefficients.tv * variation
        }
    }

    /// `g − ∂R/∂x` for the prior R of `naturalPrior`. Where a pixel equals both neighbours it steps from, the
    /// TV term's slope for β < 2 is taken as 0 (its subgradient at the kink).
    public static func naturalPriorBackward(image x: [Double], center: [Double], gradient g: [Double],
                                            prior: NaturalImagePrior, shape: TensorShape) -> [Double] {
        let (channels, height, width) = (shape[1], shape[2], shape[3])
        let (alpha, beta) = (Double(prior.alpha), Double(prior.beta))
        let coefficients = prior.coefficients(height: height, width: width)
        // Position i's differences to its right and lower neighbours, and the slope β·(dx² + dy²)^(β/2 − 1).
        func term(_ i: Int) -> (dx: Double, dy: Double, slope: Double) {
            let (h, w) = ((i / width) % height, i % width)
            let dx = w < width - 1 ? x[i + 1] - x[i] : 0, dy = h < height - 1 ? x[i + width] - x[i] : 0
            let base = dx * dx + dy * dy
            return (dx, dy, base > 0 || beta >= 2 ? beta * pow(base, beta / 2 - 1) : 0)
        }
        let plane = height * width
        return x.indices.map { i in
            let (channel, h, w) = ((i / plane) % channels, (i / width) % height, i % width)
            // ∂‖u‖^α/∂u_c = α·‖u‖^(α−2)·u_c for the pixel's colour vector u (0 at u = 0 when α < 2).
            let first = i - channel * plane
            let squared = (0..<channels).reduce(0.0) { $0 + pow(x[first + $1 * plane] - center[$1], 2) }
            let u = x[i] - center[channel]
            let norm = squared > 0 || alpha >= 2 ? alpha * pow(squared, alpha / 2 - 1) * u : 0
            let own = term(i)
            var variation = -own.slope * (own.dx + own.dy)
            if w > 0 { let left = term(i - 1); variation += left.slope * left.dx }
            if h > 0 { let above = term(i - width); variation += above.slope * above.dy }
            return g[i] - coefficients.alpha * norm - coefficients.tv * variation
        }
    }
}
