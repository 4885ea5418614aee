import Foundation

/// The shapes of a k-nearest-neighbour search: N points of D features (N×D), each point's K nearest others.
public struct NeighborGeometry: Hashable, Sendable {
    public let points: Int
    public let dimensions: Int
    public let neighbors: Int

    /// - Throws: `ShapeError` unless `points` is N×D and 1 ≤ K < N.
    public init(points shape: TensorShape, neighbors: Int) throws(ShapeError) {
        guard shape.rank == 2, shape.count > 0 else {
            throw ShapeError(op: "nearest_neighbors", message: "points \(shape) must be N×D")
        }
        guard (1..<shape[0]).contains(neighbors) else {
            throw ShapeError(op: "nearest_neighbors", message: "\(neighbors) neighbours asked of \(shape[0]) points; 1 to N − 1 exist")
        }
        (points, dimensions, self.neighbors) = (shape[0], shape[1], neighbors)
    }

    /// Each point's neighbours (distances and indices): N×K.
    public var neighborShape: TensorShape { [points, neighbors] }
}

/// The shapes of one t-SNE gradient: a 2×N map (the x row, then the y row: planar, so a kernel loads a run of
/// points' x and y with two contiguous reads) and the symmetric affinities P as compressed rows (`rowStarts` N + 1
/// offsets into `columns` and `affinities`, `entries` long).
public struct TSNEGeometry: Hashable, Sendable {
    public let points: Int
    public let entries: Int

    /// - Throws: `ShapeError` unless the map is 2×N (N ≥ 2), `rowStarts` N + 1 and the two entry tensors equally long.
    public init(map: TensorShape, rowStarts: TensorShape, columns: TensorShape, affinities: TensorShape) throws(ShapeError) {
        guard map.rank == 2, map[0] == 2, map[1] >= 2 else {
            throw ShapeError(op: "tsne", message: "map \(map) must be 2×N with N ≥ 2")
        }
        try rowStarts.require([map[1] + 1], "rowStarts", of: "tsne")
        guard columns.rank == 1, columns.count > 0 else {
            throw ShapeError(op: "tsne", message: "columns \(columns) must be a non-empty vector")
        }
        try affinities.require(columns, "affinities", of: "tsne")
        (points, entries) = (map[1], columns.count)
    }

    /// Rows of the attraction's x and y and the unnormalized repulsion's x and y, one column per point.
    public var forcesShape: TensorShape { [4, points] }
    /// Row 0: each point's share of the normalizer Z = Σ_{i≠j} (1 + |y_i − y_j|²)⁻¹; row 1: Σ_j p_ij log(p_ij / q̃_ij).
    public var partialsShape: TensorShape { [2, points] }
}

/// The shapes of Barnes-Hut repulsion: a 2×N map and a `MapQuadTree` of M nodes (`nodes` 4×M, `links` 2×M).
public struct TSNETreeGeometry: Hashable, Sendable {
    public let points: Int
    public let nodes: Int

    /// - Throws: `ShapeError` unless the map is 2×N (N ≥ 2), `nodes` 4×M and `links` 2×M.
    public init(map: TensorShape, nodes: TensorShape, links: TensorShape) throws(ShapeError) {
        guard map.rank == 2, map[0] == 2, map[1] >= 2 else {
            throw ShapeError(op: "tsne_tree_repulsion", message: "map \(map) must be 2×N with N ≥ 2")
        }
        guard nodes.rank == 2, nodes[0] == 4, nodes[1] >= 1 else {
            throw ShapeError(op: "tsne_tree_repulsion", message: "nodes \(nodes) must be 4×M")
        }
        try links.require([2, nodes[1]], "links", of: "tsne_tree_repulsion")
        (points, self.nodes) = (map[1], nodes[1])
    }
}

/// One step of t-SNE's gradient descent, as van der Maaten's reference and scikit-learn take it: momentum, and
/// delta-bar-delta gains (+0.2 where the gradient turned against the last update, ×0.8 where it did not).
public struct TSNEStep: Hashable, Sendable {
    public var exaggeration: Float
    public var momentum: Float
    public var learningRate: Float
    public var minimumGain: Float = 0.01

    public init(exaggeration: Float, momentum: Float, learningRate: Float, minimumGain: Float = 0.01) {
        (self.exaggeration, self.momentum, self.learningRate, self.minimumGain) = (exaggeration, momentum, learningRate, minimumGain)
    }
}

extension Backend {
    /// Each point's K nearest other points by squared Euclidean distance, nearest first (ties: lower index first):
    /// `distances` and `indices` N×K.
    public func nearestNeighbors(points: Tensor, distances: Tensor, indices: IndexTensor) throws {
        let geometry = try NeighborGeometry(points: points.shape, neighbors: distances.shape.rank == 2 ? distances.shape[1] : 0)
        try distances.shape.require(geometry.neighborShape, "distances", of: "nearest_neighbors")
        try indices.shape.require(geometry.neighborShape, "indices", of: "nearest_neighbors")
        try nearestNeighbors(Checked(geometry), points: points, distances: distances, indices: indices)
    }

    /// Each row of `distances` (N×K squared distances) turned into conditional probabilities
    /// p_j|i ∝ exp(−β_i d_ij), β_i found by scikit-learn's binary search (100 steps, entropy within 1e-5 nats of
    /// log `perplexity`).
    public func perplexityAffinities(distances: Tensor, output: Tensor, perplexity: Float) throws {
        guard distances.shape.rank == 2, distances.shape.count > 0 else {
            throw ShapeError(op: "perplexity_affinities", message: "distances \(distances.shape) must be N×K")
        }
        try output.shape.require(distances.shape, "output", of: "perplexity_affinities")
        guard perplexity > 0, perplexity.isFinite else {
            throw ShapeError(op: "perplexity_affinities", message: "perplexity \(perplexity) must be positive")
        }
        try perplexityAffinities(Checked(distances.shape), distances: distances, output: output, perplexity: perplexity)
    }

    /// The t-SNE forces on each point of `map` (Student-t kernel, one degree of freedom): attraction along the
    /// affinities and repulsion from every other point, exactly (O(N²)), into `forces`; and `partials`, whose row
    /// sums give the normalizer Z and, with log Z added, the KL divergence (row 1 is 0 unless `divergence`: its
    /// logarithms cost as much as the forces). Without `exactRepulsion` the repulsion rows and row 0 are left at 0
    /// for `tsneTreeRepulsion` to fill.
    public func tsneForces(map: Tensor, rowStarts: IndexTensor, columns: IndexTensor, affinities: Tensor,
                           forces: Tensor, partials: Tensor, divergence: Bool = true, exactRepulsion: Bool = true) throws {
        let geometry = try TSNEGeometry(map: map.shape, rowStarts: rowStarts.shape, columns: columns.shape,
                                        affinities: affinities.shape)
        try forces.shape.require(geometry.forcesShape, "forces", of: "tsne")
        try partials.shape.require(geometry.partialsShape, "partials", of: "tsne")
        try tsneForces(Checked(geometry), map: map, rowStarts: rowStarts, columns: columns, affinities: affinities,
                       forces: forces, partials: partials, divergence: divergence, exactRepulsion: exactRepulsion)
    }

    /// Barnes-Hut repulsion (van der Maaten 2014, as scikit-learn's): each point walks `tree` (a `MapQuadTree` of
    /// the map, uploaded) and takes a node whose side is below `theta` times its distance as one body of its
    /// count at its centre of mass. Writes the repulsion rows of `forces` (4×N) and row 0 of `partials` (2×N).
    public func tsneTreeRepulsion(map: Tensor, nodes: Tensor, links: IndexTensor, forces: Tensor, partials: Tensor,
                                  theta: Float) throws {
        let geometry = try TSNETreeGeometry(map: map.shape, nodes: nodes.shape, links: links.shape)
        try forces.shape.require([4, geometry.points], "forces", of: "tsne_tree_repulsion")
        try partials.shape.require([2, geometry.points], "partials", of: "tsne_tree_repulsion")
        guard theta >= 0, theta.isFinite else {
            throw ShapeError(op: "tsne_tree_repulsion", message: "theta \(theta) must be finite and not negative")
        }
        try tsneTreeRepulsion(Checked(geometry), map: map, nodes: nodes, links: links, forces: forces,
                              partials: partials, theta: theta)
    }

    /// One descent step on the 2×N `map` in place: gradient 4(α·attraction − repulsion / Z) from `forces` (4×N)
    /// and `sums` (Z first), then the gains, the momentum update and the move.
    public func tsneUpdate(map: Tensor, velocity: Tensor, gains: Tensor, forces: Tensor, sums: Tensor, _ step: TSNEStep) throws {
        guard map.shape.rank == 2, map.shape[0] == 2 else { throw ShapeError(op: "tsne_update", message: "map \(map.shape) must be 2×N") }
        try velocity.shape.require(map.shape, "velocity", of: "tsne_update")
        try gains.shape.require(map.shape, "gains", of: "tsne_update")
        try forces.shape.require([4, map.shape[1]], "forces", of: "tsne_update")
        try sums.shape.require([2], "sums", of: "tsne_update")
        guard [step.exaggeration, step.momentum, step.learningRate, step.minimumGain].allSatisfy(\.isFinite) else {
            throw ShapeError(op: "tsne_update", message: "step parameters must be finite: \(step)")
        }
        try tsneUpdate(Checked(map.shape), map: map, velocity: velocity, gains: gains, forces: forces, sums: sums, step)
    }
}

// MARK: - Descriptor

/// t-SNE's ops (Kernels/embedding.cl; `OpenCLBackend+Embedding`, `ReferenceMath+Embedding`). None has a backward
/// pass: the forces are the gradient of the KL divergence, checked by finite differences in the embedding tests.
public enum EmbeddingOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        NeighborCase(points: 41, dimensions: 7, neighbors: 9),
        NeighborCase(points: 12, dimensions: 3, neighbors: 11),  // every other point
        NeighborCase(points: 50, dimensions: 37, neighbors: 12),  // 16-feature runs, then a tail
        AffinityCase(points: 23, neighbors: 10, scale: 3, perplexity: 4),
        AffinityCase(points: 9, neighbors: 8, scale: 2000, perplexity: 3),  // far apart: exp(−β·d) underflows unshifted
        TSNEForcesCase(points: 37, neighbors: 6),
        TSNETreeCase(points: 150, theta: 0.5),
        TSNETreeCase(points: 40, theta: 0),  // every walk reaches the leaves: the exact sum

        TSNEUpdateCase(points: 29, TSNEStep(exaggeration: 12, momentum: 0.5, learningRate: 50)),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = []
}

public struct NeighborCase: OpCase {
    public let geometry: NeighborGeometry

    init(points: Int, dimensions: Int, neighbors: Int) {
        geometry = try! NeighborGeometry(points: [points, dimensions], neighbors: neighbors)
    }

    public var op: String { "nearest_neighbors" }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String { "x\(geometry.points)×\(geometry.dimensions) k\(geometry.neighbors)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let points = try backend.upload(.randomNormal([geometry.points, geometry.dimensions], using: &random))
        let distances = try backend.makeTensor(geometry.neighborShape)
        let indices = try backend.makeIndexTensor(geometry.neighborShape)
        try backend.nearestNeighbors(points: points, distances: distances, indices: indices)
        return [ParityOutput(name: "distances", values: try backend.download(distances).values),
                ParityOutput(name: "indices", values: try backend.downloadIndices(indices).map(Float.init), exact: true)]
    }
}

/// Squared distances |normal|·`scale`, sorted per row as a neighbour search returns them.
public struct AffinityCase: OpCase {
    public let points: Int, neighbors: Int
    public let scale: Float, perplexity: Float

    init(points: Int, neighbors: Int, scale: Float, perplexity: Float) {
        (self.points, self.neighbors, self.scale, self.perplexity) = (points, neighbors, scale, perplexity)
    }

    public var op: String { "perplexity_affinities" }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String { "d\(points)×\(neighbors) ×\(scale) perplexity \(perplexity)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let raw = HostTensor.randomNormal([points, neighbors], using: &random).values.map { abs($0) * scale }
        let rows = stride(from: 0, to: raw.count, by: neighbors).flatMap { raw[$0..<($0 + neighbors)].sorted() }
        let distances = try backend.upload(HostTensor(shape: [points, neighbors], values: rows))
        let output = try backend.makeTensor([points, neighbors])
        try backend.perplexityAffinities(distances: distances, output: output, perplexity: perplexity)
        return [ParityOutput(name: "affinities", values: try backend.download(output).values)]
    }
}

/// A map of normals ×2 and `neighbors` random partners per point with positive affinities summing to 1.
public struct TSNEForcesCase: OpCase {
    public let points: Int, neighbors: Int

    init(points: Int, neighbors: Int) { (self.points, self.neighbors) = (points, neighbors) }

    public var op: String { "tsne_forces" }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String { "y2×\(points) \(points * neighbors) affinities" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let map = try backend.upload(HostTensor(shape: [2, points],
                                                values: HostTensor.randomNormal([2, points], using: &random).values.map { $0 * 2 }))
        var columns: [Int32] = [], weights: [Float] = []
        for i in 0..<points {
            let partners = (0..<points).filter { $0 != i }.shuffled(using: &random).prefix(neighbors).sorted()
            columns += partners.map { Int32($0) }
            weights += partners.map { _ in Float(random.nextUniform()) + 0.1 }
        }
        let total = weights.reduce(0, +)
        let geometryRows = (0...points).map { Int32($0 * neighbors) }
        let rowStarts = try backend.uploadIndices(geometryRows, shape: [points + 1])
        let columnTensor = try backend.uploadIndices(columns, shape: [columns.count])
        let affinities = try backend.upload(HostTensor(shape: [weights.count], values: weights.map { $0 / total }))
        let forces = try backend.makeTensor([4, points]), partials = try backend.makeTensor([2, points])
        try backend.tsneForces(map: map, rowStarts: rowStarts, columns: columnTensor, affinities: affinities,
                               forces: forces, partials: partials)
        return [ParityOutput(name: "forces", values: try backend.download(forces).values),
                ParityOutput(name: "partials", values: try backend.download(partials).values)]
    }
}

/// A map of normals ×3 with a few coincident points, its `MapQuadTree`, and the repulsion the walk gives.
public struct TSNETreeCase: OpCase {
    public let points: Int, theta: Float

    init(points: Int, theta: Float) { (self.points, self.theta) = (points, theta) }

    public var op: String { "tsne_tree_repulsion" }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String { "y2×\(points) θ\(theta)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        var values = HostTensor.randomNormal([2, points], using: &random).values.map { $0 * 3 }
        (values[1], values[points + 1]) = (values[0], values[points])  // points 0 and 1 coincide
        let tree = MapQuadTree(xs: Array(values[..<points]), ys: Array(values[points...]))
        let map = try backend.upload(HostTensor(shape: [2, points], values: values))
        let nodes = try backend.upload(HostTensor(shape: [4, tree.count], values: tree.nodes))
        let links = try backend.uploadIndices(tree.links, shape: [2, tree.count])
        let forces = try backend.makeTensor([4, points]), partials = try backend.makeTensor([2, points])
        try backend.tsneTreeRepulsion(map: map, nodes: nodes, links: links, forces: forces, partials: partials, theta: theta)
        return [ParityOutput(name: "forces", values: try backend.download(forces).values),
                ParityOutput(name: "partials", values: try backend.download(partials).values)]
    }
}

/// Random forces, a positive normalizer, and a velocity and gains that send about half the coordinates each way.
public struct TSNEUpdateCase: OpCase {
    public let points: Int
    public let step: TSNEStep

    init(points: Int, _ step: TSNEStep) { (self.points, self.step) = (points, step) }

    public var op: String { "tsne_update" }
    public var directions: [Direction] { [.step] }
    public var shapeDescription: String {
        "y2×\(points) α\(step.exaggeration) momentum \(step.momentum) rate \(step.learningRate)"
    }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let map = try backend.upload(.randomNormal([2, points], using: &random))
        let velocity = try backend.upload(.randomNormal([2, points], using: &random))
        let gains = try backend.upload(HostTensor(shape: [2, points],
                                                  values: (0..<(2 * points)).map { _ in Float(random.nextUniform()) * 2 }))
        let forces = try backend.upload(.randomNormal([4, points], using: &random))
        let sums = try backend.upload(HostTensor(shape: [2], values: [3.5, 0.25]))
        try backend.tsneUpdate(map: map, velocity: velocity, gains: gains, forces: forces, sums: sums, step)
        return try [("map", map), ("velocity", velocity), ("gains", gains)].map {
            ParityOutput(name: $0.0, values: try backend.download($0.1).values)
        }
    }
}
