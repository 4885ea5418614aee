/// t-SNE's settings, with scikit-learn's defaults (`sklearn.manifold.TSNE`): perplexity 30, early exaggeration
/// 12 for the first 250 of 1,000 iterations at momentum 0.5 (then 0.8), learning rate N / 12 / 4 but at least 50,
/// a stop after 300 iterations without a lower KL divergence (checked every 50).
public struct TSNESettings: Hashable, Sendable {
    public var perplexity: Double = 30
    public var earlyExaggeration: Float = 12
    public var iterations = 1000
    public var explorationIterations = 250
    /// nil: scikit-learn's "auto", max(N / exaggeration / 4, 50).
    public var learningRate: Float?
    public var iterationsWithoutProgress = 300
    /// How often the KL divergence is computed, reported and checked for progress.
    public var checkInterval = 50
    /// How the repulsion is computed: over all pairs, or by Barnes-Hut over a quadtree of the map.
    public var forces = Forces.auto
    /// Barnes-Hut's accuracy: a cell counts as one body when its side is below θ times its distance.
    public var theta: Float = 0.5

    public enum Forces: String, Sendable, CaseIterable {
        case exact
        case barnesHut = "barnes-hut"
        /// Exact below `barnesHutThreshold` points, Barnes-Hut from there.
        case auto
    }

    /// Where Barnes-Hut becomes the faster: measured with `convlens bench --suite embed`-sized runs on PoCL (see
    /// BENCHMARKS.md's t-SNE sitting); exact forces cost N² per iteration, the tree N log N plus its build on the host.
    public static let barnesHutThreshold = 10_000

    /// Whether a run of `points` points walks a quadtree.
    public func usesTree(points: Int) -> Bool {
        switch forces {
        case .exact: false
        case .barnesHut: true
        case .auto: points >= Self.barnesHutThreshold
        }
    }

    public init() {}

    /// The perplexities t-SNE accepts: below 1 the binary search has nothing to calibrate; above 100 the
    /// neighbour lists (3·perplexity + 1 per point) outgrow what the calibration was made for.
    public static let perplexityRange = 1.0...100.0

    /// Neighbours per point, as scikit-learn takes them: 3·perplexity + 1, at most N − 1.
    public func neighbors(points: Int) -> Int { min(points - 1, Int(3 * perplexity + 1)) }

    /// scikit-learn's initialization from the first two principal components' scores (N×2 row-major): scaled so
    /// the first has standard deviation 1e-4, a random initialization's spread (scikit-learn #18018).
    public static func initialMap(principalScores scores: [Float]) -> [Float] {
        let first = stride(from: 0, to: scores.count, by: 2).map { Double(scores[$0]) }
        let mean = first.reduce(0, +) / Double(max(first.count, 1))
        let deviation = (first.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(first.count, 1))).squareRoot()
        return scores.map { Float(Double($0) / max(deviation, .leastNormalMagnitude) * 1e-4) }
    }

    public func learningRate(points: Int) -> Float { learningRate ?? max(Float(points) / earlyExaggeration / 4, 50) }

    /// Why these settings cannot embed `points` points (nil when they can): the perplexity must be in range and
    /// the points more than 3·perplexity, so every neighbour list is a neighbourhood rather than everything.
    public func problem(points: Int?) -> String? {
        guard Self.perplexityRange.contains(perplexity) else {
            return "--perplexity must be from \(Int(Self.perplexityRange.lowerBound)) to \(Int(Self.perplexityRange.upperBound)), got \(perplexity)"
        }
        guard iterations > explorationIterations, explorationIterations >= 0 else {
            return "--iterations must exceed the \(explorationIterations) of early exaggeration, got \(iterations)"
        }
        guard theta >= 0 && theta <= 1 else { return "--theta must be from 0 to 1, got \(theta)" }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            return "--learning-rate must be positive, got \(learningRate)"
        }
        guard let points else { return nil }
        guard Double(points) > 3 * perplexity else {
            let fits = (Double(points) - 1) / 3
            return fits >= 1
                ? "t-SNE needs more points than 3 × perplexity: \(points) points take a perplexity of at most "
                    + String(format: "%.4g", (fits * 10).rounded(.down) / 10) + ", got \(perplexity)"
                : "t-SNE needs more points than 3 × perplexity; \(points) points are too few for any (at least 4)"
        }
        return nil
    }
}
