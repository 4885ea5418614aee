import Foundation
import TensorOps

extension ReferenceMath {
    /// Each point's K nearest others by squared distance, nearest first, ties to the lower index.
    public static func nearestNeighbors(points x: [Double], _ g: NeighborGeometry) -> (distances: [Double], indices: [Int32]) {
        var distances: [Double] = [], indices: [Int32] = []
        for i in 0..<g.points {
            let ranked = (0..<g.points).filter { $0 != i }.map { j in
                (distance: (0..<g.dimensions).reduce(0.0) { sum, c in
                    let t = x[i * g.dimensions + c] - x[j * g.dimensions + c]
                    return sum + t * t
                }, index: j)
            }.sorted { ($0.distance, $0.index) < ($1.distance, $1.index) }.prefix(g.neighbors)
            distances += ranked.map(\.distance)
            indices += ranked.map { Int32($0.index) }
        }
        return (distances, indices)
    }

    /// scikit-learn's `_binary_search_perplexity` on each row: β from 1, doubled or halved until the entropy of
    /// p_j ∝ exp(−β d_j) is bracketed around log `perplexity`, then bisected; at most 100 steps, stopping within
    /// 1e-5 nats. Distances are taken relative to the row's smallest, which leaves p and the entropy unchanged but
    /// keeps exp from underflowing to an all-zero row when distances are large.
    public static func perplexityAffinities(distances d: [Double], rows: Int, perplexity: Double) -> [Double] {
        let width = d.count / rows, target = log(perplexity)
        var p = [Double](repeating: 0, count: d.count)
        for row in 0..<rows {
            let distances = d[(row * width)..<((row + 1) * width)], smallest = distances.min()!
            let shifted = distances.map { $0 - smallest }
            var (beta, low, high) = (1.0, -Double.infinity, Double.infinity)
            var weights: [Double] = [], total = 0.0
            for _ in 0..<100 {
                weights = shifted.map { exp(-$0 * beta) }
                total = weights.reduce(0, +)
                let entropy = log(total) + beta * zip(shifted, weights).reduce(0) { $0 + $1.0 * $1.1 } / total
                let difference = entropy - target
                if abs(difference) <= 1e-5 { break }
                if difference > 0 {
                    low = beta
                    beta = high == .infinity ? beta * 2 : (beta + high) / 2
                } else {
                    high = beta
                    beta = low == -.infinity ? beta / 2 : (beta + low) / 2
                }
            }
            for j in 0..<width { p[row * width + j] = weights[j] / total }
        }
        return p
    }

    /// Per point of the 2×N map: attraction Σ_j p_ij q̃_ij (y_i − y_j) and repulsion Σ_{j≠i} q̃_ij² (y_i − y_j),
    /// q̃_ij = (1 + |y_i − y_j|²)⁻¹ (4×N: their x and y rows); and the partials (2×N): Σ_{j≠i} q̃_ij, and
    /// Σ_j p_ij log(p_ij / q̃_ij) over the affinities (0 unless `divergence`).
    public static func tsneForces(map y: [Double], rowStarts: [Int32], columns: [Int32], affinities p: [Double], divergence: Bool, exactRepulsion: Bool = true,
                                  _ g: TSNEGeometry) -> (forces: [Double], partials: [Double]) {
        let n = g.points
        var forces = [Double](repeating: 0, count: 4 * n), partials = [Double](repeating: 0, count: 2 * n)
        func kernel(_ i: Int, _ j: Int) -> (q: Double, dx: Double, dy: Double) {
            let dx = y[i] - y[j], dy = y[n + i] - y[n + j]
            return (1 / (1 + dx * dx + dy * dy), dx, dy)
        }
        for i in 0..<g.points {
            for j in 0..<g.points where j != i && exactRepulsion {
                let (q, dx, dy) = kernel(i, j)
                forces[2 * n + i] += q * q * dx
                forces[3 * n + i] += q * q * dy
                partials[i] += q
            }
            for entry in Int(rowStarts[i])..<Int(rowStarts[i + 1]) {
                let (q, dx, dy) = kernel(i, Int(columns[entry]))
                forces[i] += p[entry] * q * dx
                forces[n + i] += p[entry] * q * dy
                if divergence && p[entry] > 0 { partials[g.points + i] += p[entry] * log(p[entry] / q) }
            }
        }
        return (forces, partials)
    }

    /// Barnes-Hut repulsion of the 2×N `map` over a `MapQuadTree` (`nodes` 4×M, `links` 2×M): the repulsion's x
    /// and y rows (2×N) and Σ q̃ per point. The walk's decisions use the kernel's float operations (so both backends
    /// take the same nodes); the sums are in Double.
    public static func tsneTreeRepulsion(map: [Float], nodes: [Float], links: [Int32], theta: Float)
        -> (repulsion: [Double], normalizers: [Double])
    {
        let (n, m) = (map.count / 2, nodes.count / 4), theta2 = theta * theta
        var repulsion = [Double](repeating: 0, count: 2 * n), normalizers = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var node = 0
            while node < m {
                let dx = map[i] - nodes[node], dy = map[n + i] - nodes[m + node]
                let d2 = (dy * dy).addingProduct(dx, dx), side = nodes[3 * m + node]
                if links[node] < 0 || side * side < theta2 * d2 {
                    let q = 1 / (1 + Double(d2)), count = Double(nodes[2 * m + node])
                    normalizers[i] += count * q
                    repulsion[i] += count * q * q * Double(dx)
                    repulsion[n + i] += count * q * q * Double(dy)
                    node = Int(links[m + node])
                } else {
                    node = Int(links[node])
                }
            }
            normalizers[i] -= 1
        }
        return (repulsion, normalizers)
    }

    /// One descent step (`TSNEStep`): gradient g = 4(α·attraction − repulsion / Z); gain + 0.2 where g opposes
    /// the last update, × 0.8 elsewhere, at least the minimum; update = momentum · update − rate · gain · g.
    public static func tsneUpdate(map: inout [Double], velocity: inout [Double], gains: inout [Double],
                                  forces: [Double], normalizer z: Double, _ step: TSNEStep) {
        let n = map.count / 2
        for e in map.indices {  // e = axis·N + i on the 2×N map, as on the 4×N forces
            let gradient = 4 * (Double(step.exaggeration) * forces[e] - forces[2 * n + e] / z)
            gains[e] = max(velocity[e] * gradient < 0 ? gains[e] + 0.2 : gains[e] * 0.8, Double(step.minimumGain))
            velocity[e] = Double(step.momentum) * velocity[e] - Double(step.learningRate) * gains[e] * gradient
            map[e] += velocity[e]
        }
    }
}
