import Foundation
import TensorOps

extension ReferenceMath {
    /// Channel weights N×K of `rule` (see `CAMRule`), in pytorch-grad-cam's order of operations.
    public static func camChannelWeights(_ rule: CAMRule, activation a: [Double], gradient g: [Double], _ geometry: CAMGeometry)
        -> [Double]
    {
        let p = geometry.positions
        let epsilon = Double(rule.epsilon)
        return (0..<geometry.images * geometry.channels).map { plane in
            let range = plane * p..<(plane + 1) * p
            switch rule {
            case .gradCAM:
                return range.reduce(0) { $0 + g[$1] } / Double(p)
            case .xGradCAM:
                let total = range.reduce(0) { $0 + a[$1] }
                return range.reduce(0) { $0 + g[$1] * a[$1] / (total + epsilon) }
            case .gradCAMPlusPlus:
                let total = range.reduce(0) { $0 + a[$1] }
                return range.reduce(0) { sum, i in
                    let (g2, g3) = (g[i] * g[i], g[i] * g[i] * g[i])
                    let alpha = g[i] != 0 ? g2 / (2 * g2 + total * g3 + epsilon) : 0
                    return sum + max(g[i], 0) * alpha
                }
            case .hiResCAM, .layerCAM:
                preconditionFailure("\(rule.rawValue) weighs positions, not channels")
            }
        }
    }

    /// relu(Σ_k w[n, k] · A[n, k]) per image and position.
    public static func camWeightedSum(activation a: [Double], weights w: [Double], _ geometry: CAMGeometry) -> [Double] {
        let (k, p) = (geometry.channels, geometry.positions)
        return (0..<geometry.images * p).map { index in
            let (n, position) = index.quotientAndRemainder(dividingBy: p)
            let sum = (0..<k).reduce(0) { $0 + w[n * k + $1] * a[(n * k + $1) * p + position] }
            return max(sum, 0)
        }
    }

    /// relu(Σ_k f(G) · A) per image and position, f = identity (HiRes-CAM) or relu (Layer-CAM).
    public static func camPixelwiseSum(_ rule: CAMRule, activation a: [Double], gradient g: [Double],
                                       _ geometry: CAMGeometry) -> [Double] {
        let (k, p) = (geometry.channels, geometry.positions)
        return (0..<geometry.images * p).map { index in
            let (n, position) = index.quotientAndRemainder(dividingBy: p)
            let sum = (0..<k).reduce(0.0) { sum, channel in
                let i = (n * k + channel) * p + position
                return sum + (rule == .layerCAM ? max(g[i], 0) : g[i]) * a[i]
            }
            return max(sum, 0)
        }
    }

    /// (x − min) / (max − min + epsilon) over each image's `perImage` values.
    public static func minMaxNormalize(_ x: [Double], perImage: Int, epsilon: Double) -> [Double] {
        stride(from: 0, to: x.count, by: perImage).flatMap { start in
            let image = x[start..<start + perImage]
            let low = image.min() ?? 0
            let high = (image.max() ?? 0) - low
            return image.map { ($0 - low) / (high + epsilon) }
        }
    }

    /// alpha · lut[⌊255 · clamp(map, 0, 1)⌋] + (1 − alpha) · image.
    public static func overlay(map: [Double], lut: [Double], image: [Double], alpha: Double, _ geometry: OverlayGeometry)
        -> [Double]
    {
        let p = geometry.positions
        var out = [Double](repeating: 0, count: image.count)
        for n in 0..<geometry.images {
            for position in 0..<p {
                // A NaN takes the lowest level, as the kernel's clamp (fmin/fmax) gives it: a colour, not a trap.
                let value = map[n * p + position]
                let level = value.isNaN ? 0 : Int(255 * min(max(value, 0), 1))
                for channel in 0..<3 {
                    let i = (n * 3 + channel) * p + position
                    out[i] = alpha * lut[level * 3 + channel] + (1 - alpha) * image[i]
                }
            }
        }
        return out
    }
}

extension ReferenceMath {
    /// Eigen-CAM's maps N×1×h×w from activations N×K×h×w (pytorch-grad-cam's `get_2d_projection`): each image's
    /// activations (positions × channels, centred per channel) projected on their first principal component,
    /// then ReLU. The component is the top eigenvector of the smaller Gram matrix, by power iteration in Double;
    /// its sign (arbitrary in LAPACK's SVD, which pytorch-grad-cam uses) makes its entries over channels sum to a
    /// positive number.
    public static func camPrincipalProjection(activation: [Double], _ g: CAMGeometry) -> [Double] {
        (0..<g.images).flatMap { image -> [Double] in
            var x = [[Double]](repeating: [Double](repeating: 0, count: g.channels), count: g.positions)
            for k in 0..<g.channels {
                let start = (image * g.channels + k) * g.positions
                let plane = activation[start..<start + g.positions]
                let mean = plane.reduce(0, +) / Double(g.positions)
                for (p, value) in plane.enumerated() { x[p][k] = value - mean }
            }
            return signedPrincipalProjection(x, channels: g.channels).map { max($0, 0) }
        }
    }

    /// X·v for the top right singular vector v of X (positions × channels), v's entries summing to ≥ 0.
    public static func signedPrincipalProjection(_ x: [[Double]], channels: Int) -> [Double] {
        let positions = x.count
        let v: [Double]
        if positions <= channels {
            // u = top eigenvector of X·Xᵀ; v ∝ Xᵀ·u.
            let gram = (0..<positions).map { i in (0..<positions).map { j in dot(x[i], x[j]) } }
            let u = topEigenvector(gram)
            v = normalized((0..<channels).map { k in (0..<positions).reduce(0) { $0 + x[$1][k] * u[$1] } })
        } else {
            let gram = (0..<channels).map { a in (0..<channels).map { b in (0..<positions).reduce(0) { $0 + x[$1][a] * x[$1][b] } } }
            v = topEigenvector(gram)
        }
        let sign: Double = v.reduce(0, +) < 0 ? -1 : 1
        return x.map { sign * dot($0, v) }
    }

    /// The unit eigenvector of the largest eigenvalue of a symmetric positive semi-definite matrix.
    static func topEigenvector(_ m: [[Double]]) -> [Double] {
        let n = m.count
        // A start with a component along almost any eigenvector: not all ones, which symmetric data can null.
        var v = normalized((0..<n).map { 1 + Double($0 % 7) / 7 })
        for _ in 0..<2000 {
            let next = normalized((0..<n).map { dot(m[$0], v) })
            let change = zip(next, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            v = next
            if change < 1e-26 { break }
        }
        return v
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    private static func normalized(_ v: [Double]) -> [Double] {
        let norm = dot(v, v).squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }
}
