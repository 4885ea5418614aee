import Foundation

/// t-SNE's joint probabilities P as compressed rows: p_ij = (p_j|i + p_i|j) / 2N from each point's conditional
/// probabilities over its nearest neighbours, as scikit-learn's Barnes-Hut path builds them (`P + Pᵀ`, normalized
/// to sum 1). Symmetric, each row sorted by column.
public struct TSNEAffinities: Sendable {
    public let points: Int
    /// N + 1 offsets into `columns` and `values`.
    public let rowStarts: [Int32]
    public let columns: [Int32]
    public let values: [Float]

    /// Symmetrizes conditional probabilities: row i of `neighbors` and `conditional` (N×K each) are point i's
    /// neighbours and p_j|i.
    public init(neighbors: [Int32], conditional: [Float], points: Int) {
        let width = neighbors.count / points
        var rows = [[Int32: Double]](repeating: [:], count: points)
        for i in 0..<points {
            for slot in 0..<width {
                let j = Int(neighbors[i * width + slot]), p = Double(conditional[i * width + slot])
                rows[i][Int32(j), default: 0] += p
                rows[j][Int32(i), default: 0] += p
            }
        }
        let total = max(rows.reduce(0) { $0 + $1.values.reduce(0, +) }, Double.leastNormalMagnitude)
        var starts: [Int32] = [0], columns: [Int32] = [], values: [Float] = []
        for row in rows {
            for (column, value) in row.sorted(by: { $0.key < $1.key }) {
                columns.append(column)
                values.append(Float(value / total))
            }
            starts.append(Int32(columns.count))
        }
        (self.points, rowStarts, self.columns, self.values) = (points, starts, columns, values)
    }

    /// The KL divergence of the map whose pairwise similarities are q_ij = q̃_ij / Z: Σ p log(p / q̃) + log Z.
    public static func divergence(partialSum: Double, normalizer: Double) -> Double { partialSum + log(normalizer) }
}
