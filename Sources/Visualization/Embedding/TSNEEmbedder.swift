import TensorOps

/// Where a t-SNE run is: after `iteration` of `total`; `divergence` (KL(P‖Q) with the true P, also during early
/// exaggeration) every `TSNESettings.checkInterval` iterations and at the end.
public struct TSNEProgress: Sendable {
    public let iteration: Int
    public let total: Int
    public let divergence: Double?
}

/// A finished map: N×2 row-major, its KL divergence, and the iterations run (fewer than asked when the
/// divergence stopped improving).
public struct TSNEResult: Sendable {
    public let map: [Float]
    public let divergence: Double
    public let iterations: Int
}

/// t-SNE on a backend, as scikit-learn's `TSNE` defines it: the nearest-neighbour search and perplexity calibration
/// run on the backend (the symmetrization of the sparse P on the host), then every iteration is two launches and a
/// reduction on the backend — forces (repulsion over all N² pairs), the normalizer and KL partial sums, the
/// gains-and-momentum step — with the map downloaded only at the end. With Barnes-Hut forces (`TSNESettings.forces`)
/// each iteration also downloads the map, builds its quadtree on the host and uploads it for the repulsion's walk.
/// On `ReferenceBackend` the same code is the reference twin.
public final class TSNEEmbedder<B: Backend> {
    public let backend: B
    public let settings: TSNESettings

    public init(backend: B, settings: TSNESettings) {
        self.backend = backend
        self.settings = settings
    }

    /// P from features N×D (on the backend).
    /// - Throws: `ShapeError` when the settings do not fit N (`TSNESettings.problem`); backend errors.
    public func affinities(features: B.Tensor) throws -> TSNEAffinities {
        let points = features.shape[0]
        if let problem = settings.problem(points: points) { throw ShapeError(op: "tsne", message: problem) }
        let shape = TensorShape([points, settings.neighbors(points: points)])
        let distances = try backend.makeTensor(shape), indices = try backend.makeIndexTensor(shape)
        try backend.nearestNeighbors(points: features, distances: distances, indices: indices)
        let conditional = try backend.makeTensor(shape)
        try backend.perplexityAffinities(distances: distances, output: conditional, perplexity: Float(settings.perplexity))
        return TSNEAffinities(neighbors: try backend.downloadIndices(indices),
                              conditional: try backend.download(conditional).values, points: points)
    }

    /// Runs the descent from `initial` (N×2 row-major), calling `progress` after every iteration.
    public func embed(_ p: TSNEAffinities, initial: [Float], progress: (TSNEProgress) throws -> Void = { _ in }) throws
        -> TSNEResult
    {
        let n = p.points
        precondition(initial.count == 2 * n, "one (x, y) per point")
        // Planar on the backend (x row, y row: `TSNEGeometry`), row-major N×2 for callers.
        let map = try backend.upload(HostTensor(shape: [2, n], values: (0..<(2 * n)).map { initial[2 * ($0 % n) + $0 / n] }))
        let rowStarts = try backend.uploadIndices(p.rowStarts, shape: [n + 1])
        let columns = try backend.uploadIndices(p.columns, shape: [p.columns.count])
        let affinities = try backend.upload(HostTensor(shape: [p.values.count], values: p.values))
        let forces = try backend.makeTensor([4, n]), partials = try backend.makeTensor([2, n]), sums = try backend.makeTensor([2])
        var velocity = try backend.makeTensor([2, n]), gains = try backend.makeTensor([2, n])
        let rate = settings.learningRate(points: n), tree = settings.usesTree(points: n)
        var (divergence, best, bestIteration) = (Double.nan, Double.infinity, 0)
        var iteration = 0
        while iteration < settings.iterations {
            let exploring = iteration < settings.explorationIterations
            if iteration == 0 || iteration == settings.explorationIterations {
                // Each phase starts from rest with unit gains, as scikit-learn's two calls of its optimizer do.
                velocity = try backend.makeTensor([2, n])
                gains = try backend.upload(HostTensor(shape: [2, n], values: [Float](repeating: 1, count: 2 * n)))
            }
            let checks = (iteration + 1) % settings.checkInterval == 0 || iteration + 1 == settings.iterations
            try backend.tsneForces(map: map, rowStarts: rowStarts, columns: columns, affinities: affinities,
                                   forces: forces, partials: partials, divergence: checks, exactRepulsion: !tree)
            if tree {
                let planar = try backend.download(map).values
                let quadtree = MapQuadTree(xs: Array(planar[..<n]), ys: Array(planar[n...]))
                try backend.tsneTreeRepulsion(
                    map: map, nodes: try backend.upload(HostTensor(shape: [4, quadtree.count], values: quadtree.nodes)),
                    links: try backend.uploadIndices(quadtree.links, shape: [2, quadtree.count]), forces: forces,
                    partials: partials, theta: settings.theta)
            }
            try backend.reduceForward(.sum, input: partials, output: sums, axes: 1...1)
            try backend.tsneUpdate(map: map, velocity: velocity, gains: gains, forces: forces, sums: sums, TSNEStep(
                exaggeration: exploring ? settings.earlyExaggeration : 1, momentum: exploring ? 0.5 : 0.8, learningRate: rate))
            iteration += 1
            var reported: Double?
            if checks {
                // The forces were taken at the map before this step: the divergence is that map's, as scikit-learn reports it.
                let totals = try backend.download(sums).values
                divergence = TSNEAffinities.divergence(partialSum: Double(totals[1]), normalizer: Double(totals[0]))
                guard divergence.isFinite else {
                    throw ShapeError(op: "tsne", message: "the KL divergence became \(divergence) at iteration \(iteration)")
                }
                reported = divergence
            }
            try progress(TSNEProgress(iteration: iteration, total: settings.iterations, divergence: reported))
            if checks && !exploring {
                if divergence < best { (best, bestIteration) = (divergence, iteration) }
                else if iteration - bestIteration > settings.iterationsWithoutProgress { break }
            }
        }
        let planar = try backend.download(map).values
        return TSNEResult(map: (0..<(2 * n)).map { planar[($0 % 2) * n + $0 / 2] }, divergence: divergence, iterations: iteration)
    }
}
