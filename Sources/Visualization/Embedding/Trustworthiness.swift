/// How well a map keeps neighbourhoods (Venna & Kaski), as `sklearn.manifold.trustworthiness` computes it:
/// T(k) = 1 − 2 / (n·k·(2n − 3k − 1)) · Σ_i Σ_{j among i's k nearest in the map} max(0, r(i, j) − k), r(i, j) being
/// j's rank among i's neighbours in the original space (1 = nearest). 1 means every map neighbour is a true
/// neighbour. O(n² log n) on the host: a measurement for reports and tests, not part of the embedding.
public enum Trustworthiness {
    /// - Parameters:
    ///   - original: n×D row-major; `map`: n×d row-major; `neighbors`: k, below n / 2.
    public static func score(original: [Float], map: [Float], points n: Int, neighbors k: Int) -> Double {
        precondition(n >= 3 && k >= 1 && 2 * k < n, "k below n / 2")
        let originalRanks = (0..<n).map { i in
            var rank = [Int](repeating: 0, count: n)
            for (position, j) in ordered(from: i, original, n).enumerated() { rank[j] = position + 1 }
            return rank
        }
        var penalty = 0
        for i in 0..<n {
            for j in ordered(from: i, map, n).prefix(k) { penalty += max(0, originalRanks[i][j] - k) }
        }
        return 1 - Double(penalty) * 2 / (Double(n * k) * Double(2 * n - 3 * k - 1))
    }

    /// The other points by Euclidean distance from point `i`, nearest first (ties to the lower index).
    private static func ordered(from i: Int, _ values: [Float], _ n: Int) -> [Int] {
        let d = values.count / n
        let distances = (0..<n).map { j in
            (0..<d).reduce(0.0) { sum, c in
                let t = Double(values[i * d + c]) - Double(values[j * d + c])
                return sum + t * t
            }
        }
        return (0..<n).filter { $0 != i }.sorted { (distances[$0], $0) < (distances[$1], $1) }
    }
}
