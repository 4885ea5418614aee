import Foundation
import TensorOps

/// Eigen-CAM's map: each image's activations (positions × channels, centred per channel) projected on their
/// first principal component, then ReLU — pytorch-grad-cam's `get_2d_projection`.
///
/// The component is the top eigenvector of the smaller Gram matrix (positions × positions or channels × channels),
/// by power iteration in Double. Its sign is a convention (LAPACK's SVD, which pytorch-grad-cam uses, picks one
/// arbitrarily): here the component's entries over channels sum to a positive number.
enum EigenCAM {
    /// N×1×h×w maps from activations N×K×h×w.
    static func projection(of activation: HostTensor) -> HostTensor {
        let (images, channels, positions) = (activation.shape[0], activation.shape[1], activation.shape[2] * activation.shape[3])
        var maps: [Float] = []
        for image in 0..<images {
            // x[p][k], centred per channel.
            var x = [[Double]](repeating: [Double](repeating: 0, count: channels), count: positions)
            for k in 0..<channels {
                let plane = activation.values[(image * channels + k) * positions..<(image * channels + k + 1) * positions]
                let mean = plane.reduce(0) { $0 + Double($1) } / Double(positions)
                for (p, value) in plane.enumerated() { x[p][k] = Double(value) - mean }
            }
            maps += signedProjection(x, channels: channels).map { Float(max($0, 0)) }
        }
        return HostTensor(shape: [images, 1, activation.shape[2], activation.shape[3]], values: maps)
    }

    /// X·v for the top right singular vector v of X (positions × channels), v's entries summing to ≥ 0.
    static func signedProjection(_ x: [[Double]], channels: Int) -> [Double] {
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
