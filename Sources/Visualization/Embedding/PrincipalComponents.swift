import Foundation
import TensorOps

/// The leading principal components of N×D features: the covariance XᵀX / (N − 1) of the centred features is
/// formed on the backend (the O(N·D²) part), and its top eigenvectors found by subspace iteration whose products
/// C·V also run there; only D×k blocks and the k×k Rayleigh–Ritz problem are solved on the host. Signs follow
/// scikit-learn's `svd_flip`: each component's largest loading is positive.
public struct PrincipalComponents: Sendable {
    /// D×k, column j the j-th component.
    public let components: [Double]
    public let dimensions: Int
    public let count: Int
    /// Eigenvalues of the covariance, largest first, and their share of its trace.
    public let variances: [Double]
    public let explainedRatios: [Double]
    /// The features' mean, subtracted before projecting.
    public let mean: [Double]

    /// The top `count` components of `features` (N×D row-major, N ≥ 2).
    public init<B: Backend>(features: [Float], points: Int, count: Int, on backend: B) throws {
        let d = features.count / points
        precondition(points >= 2 && count >= 1 && count <= d, "at least two points, 1 ≤ count ≤ D")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<points { for c in 0..<d { mean[c] += Double(features[i * d + c]) } }
        mean = mean.map { $0 / Double(points) }
        let centred = (0..<(points * d)).map { Float(Double(features[$0]) - mean[$0 % d]) }
        let x = try backend.upload(HostTensor(shape: [points, d], values: centred))
        let transposed = try backend.makeTensor([d, points]), gram = try backend.makeTensor([d, d])
        try backend.permute(input: x, output: transposed, permutation: [1, 0])
        try backend.matmulForward(a: transposed, b: x, output: gram)
        let covarianceValues = try backend.download(gram).values.map { $0 / Float(points - 1) }
        let covariance = try backend.upload(HostTensor(shape: [d, d], values: covarianceValues))
        let trace = (0..<d).reduce(0.0) { $0 + Double(covarianceValues[$1 * d + $1]) }

        // Subspace iteration on a few more vectors than asked converges at the rate λ_{k+1}/λ_count.
        let block = min(d, count + 6)
        var random = SeededGenerator(seed: 0x5CA1AB1E)
        var basis = Self.orthonormalized(random.normals(d * block), rows: d, columns: block)
        var product = [Double]()
        for _ in 0..<1000 {
            product = try Self.multiply(covariance, basis, rows: d, columns: block, on: backend)
            let next = Self.orthonormalized(product, rows: d, columns: block)
            let settled = (0..<count).allSatisfy { j in
                abs((0..<d).reduce(0.0) { $0 + next[$1 * block + j] * basis[$1 * block + j] }) > 1 - 1e-12
            }
            basis = next
            if settled { break }
        }
        product = try Self.multiply(covariance, basis, rows: d, columns: block, on: backend)
        // Rayleigh–Ritz: the block's projection of C, diagonalized, rotates the basis onto eigenvectors.
        var small = [Double](repeating: 0, count: block * block)
        for a in 0..<block { for b in 0..<block { small[a * block + b] = (0..<d).reduce(0.0) { $0 + basis[$1 * block + a] * product[$1 * block + b] } } }
        let (values, vectors) = Self.symmetricEigen(small, size: block)
        let order = (0..<block).sorted { values[$0] > values[$1] }.prefix(count)
        var components = [Double](repeating: 0, count: d * count)
        for (column, source) in order.enumerated() {
            var vector = (0..<d).map { row in (0..<block).reduce(0.0) { $0 + basis[row * block + $1] * vectors[$1 * block + source] } }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            vector = vector.map { $0 / norm }
            if let largest = vector.max(by: { abs($0) < abs($1) }), largest < 0 { vector = vector.map { -$0 } }
            for row in 0..<d { components[row * count + column] = vector[row] }
        }
        self.components = components
        (dimensions, self.count, self.mean) = (d, count, mean)
        variances = order.map { max(values[$0], 0) }
        explainedRatios = variances.map { trace > 0 ? $0 / trace : 0 }
    }

    /// The features' coordinates on the components: N×count row-major.
    public func project(_ features: [Float], points: Int) -> [Float] {
        var scores = [Float](repeating: 0, count: points * count)
        for i in 0..<points {
            for j in 0..<count {
                scores[i * count + j] = Float((0..<dimensions).reduce(0.0) {
                    $0 + (Double(features[i * dimensions + $1]) - mean[$1]) * components[$1 * count + j]
                })
            }
        }
        return scores
    }

    /// C·V on the backend (C d×d already there, V d×k from the host).
    private static func multiply<B: Backend>(_ c: B.Tensor, _ v: [Double], rows: Int, columns: Int, on backend: B) throws -> [Double] {
        let output = try backend.makeTensor([rows, columns])
        try backend.matmulForward(a: c, b: try backend.upload(HostTensor(shape: [rows, columns], values: v.map(Float.init))),
                                  output: output)
        return try backend.download(output).values.map(Double.init)
    }

    /// Modified Gram–Schmidt on the columns of a rows×columns matrix (row-major).
    static func orthonormalized(_ m: [Double], rows: Int, columns: Int) -> [Double] {
        var q = m
        for j in 0..<columns {
            for previous in 0..<j {
                let dot = (0..<rows).reduce(0.0) { $0 + q[$1 * columns + j] * q[$1 * columns + previous] }
                for r in 0..<rows { q[r * columns + j] -= dot * q[r * columns + previous] }
            }
            let norm = (0..<rows).reduce(0.0) { $0 + q[$1 * columns + j] * q[$1 * columns + j] }.squareRoot()
            for r in 0..<rows { q[r * columns + j] = norm > 0 ? q[r * columns + j] / norm : (r == j ? 1 : 0) }
        }
        return q
    }

    /// Cyclic Jacobi rotations of a small symmetric matrix: its eigenvalues, and eigenvectors as columns.
    static func symmetricEigen(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix, v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
            if off < 1e-30 { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {  // A ← A·J
                        let (akp, akq) = (a[k * n + p], a[k * n + q])
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {  // A ← Jᵀ·A
                        let (apk, aqk) = (a[p * n + k], a[q * n + k])
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let (vkp, vkq) = (v[k * n + p], v[k * n + q])
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
