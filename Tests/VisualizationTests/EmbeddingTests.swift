import BackendParity
import Foundation
import ImageIO
import ReferenceBackend
import TensorOps
import TestSupport
import Testing
@testable import Visualization

/// t-SNE and PCA against scikit-learn on 300 MNIST digits' features (`Tools/tsne_fixtures.py`), the forces against
/// finite differences of the KL divergence, and the device against the reference.
@Suite("Embeddings", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct EmbeddingTests {
    struct Summary: Decodable {
        let perplexity: Double
        let points: Int
        let kl_divergence_exact: Double
        let kl_divergence_exact_fine: Double
        let trustworthiness: Double
        let trustworthiness_neighbors: Int

        enum CodingKeys: String, CodingKey {
            case perplexity, points, kl_divergence_exact, trustworthiness, trustworthiness_neighbors
            case kl_divergence_exact_fine = "kl_divergence_exact_angle_0.05"
        }
    }

    let summary: Summary
    let features: HostTensor
    var folder: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/tsne") }

    init() throws {
        let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/tsne")
        summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: folder.appendingPathComponent("fixture.json")))
        features = try NPYFile.read(folder.appendingPathComponent("digits300_features.npy").path)
    }

    func array(_ name: String) throws -> [Float] { try NPYFile.read(folder.appendingPathComponent(name).path).values }

    var settings: TSNESettings {
        var settings = TSNESettings()
        settings.perplexity = summary.perplexity
        return settings
    }

    /// The neighbour search, perplexity calibration and symmetrization give scikit-learn's P entry for entry.
    @Test func affinitiesAreScikitLearns() throws {
        let device = try TestBackends.device()
        let p = try TSNEEmbedder(backend: device, settings: settings).affinities(features: try device.upload(features))
        #expect(p.rowStarts == (try array("sklearn_affinities_rows.npy")).map { Int32($0) })
        #expect(p.columns == (try array("sklearn_affinities_columns.npy")).map { Int32($0) })
        expectClose(p.values.map(Double.init), try array("sklearn_affinities_values.npy").map(Double.init),
                    relativeL2: Tolerance.tsneAffinitiesVsScikitLearn, "P")
    }

    /// The whole run: a KL divergence within 5 % of scikit-learn's with forces as exact as ours (Barnes-Hut at
    /// angle 0.05) and no more than 5 % above its default's (angle 0.5, whose approximate forces end about 5 %
    /// higher on this set), all exact KLs under the same P; and a trustworthiness within 0.01 of its.
    @Test func theMapIsAsGoodAsScikitLearns() throws {
        let device = try TestBackends.device()
        let n = summary.points
        let embedder = TSNEEmbedder(backend: device, settings: settings)
        let p = try embedder.affinities(features: try device.upload(features))
        let pca = try PrincipalComponents(features: features.values, points: n, count: 2, on: device)
        let initial = TSNESettings.initialMap(principalScores: pca.project(features.values, points: n))
        let result = try embedder.embed(p, initial: initial)
        let divergence = Self.exactDivergence(p, map: result.map)
        #expect(abs(divergence - summary.kl_divergence_exact_fine) <= 0.05 * summary.kl_divergence_exact_fine,
                "KL \(divergence) against scikit-learn's \(summary.kl_divergence_exact_fine) at angle 0.05")
        #expect(divergence <= 1.05 * summary.kl_divergence_exact,
                "KL \(divergence) against scikit-learn's default \(summary.kl_divergence_exact)")
        let trust = Trustworthiness.score(original: features.values, map: result.map, points: n,
                                          neighbors: summary.trustworthiness_neighbors)
        #expect(abs(trust - summary.trustworthiness) <= 0.01, "trustworthiness \(trust) against \(summary.trustworthiness)")
        // The divergence the run reports is its last map's before the final step, within a step's change of it.
        #expect(abs(result.divergence - divergence) < 0.01 * divergence)
    }

    /// With Barnes-Hut forces (scikit-learn's own method, θ 0.5) the map is as good as scikit-learn's default:
    /// a KL within 5 % of it and a trustworthiness within 0.01.
    @Test func aBarnesHutMapIsAsGoodAsScikitLearnsDefault() throws {
        let device = try TestBackends.device()
        var tree = settings
        tree.forces = .barnesHut
        let embedder = TSNEEmbedder(backend: device, settings: tree)
        let p = try embedder.affinities(features: try device.upload(features))
        let pca = try PrincipalComponents(features: features.values, points: summary.points, count: 2, on: device)
        let result = try embedder.embed(p, initial: TSNESettings.initialMap(
            principalScores: pca.project(features.values, points: summary.points)))
        let divergence = Self.exactDivergence(p, map: result.map)
        #expect(abs(divergence - summary.kl_divergence_exact) <= 0.05 * summary.kl_divergence_exact,
                "KL \(divergence) against scikit-learn's \(summary.kl_divergence_exact)")
        let trust = Trustworthiness.score(original: features.values, map: result.map, points: summary.points,
                                          neighbors: summary.trustworthiness_neighbors)
        #expect(abs(trust - summary.trustworthiness) <= 0.01, "trustworthiness \(trust) against \(summary.trustworthiness)")
    }

    /// The quadtree: every node's count and centre of mass are its children's, `next` skips exactly its subtree,
    /// and the leaves hold every point once. The walk at θ = 0 is the exact repulsion; at θ = 0.5 within 1 %.
    @Test func theQuadtreeWalkApproximatesTheExactRepulsion() throws {
        var random = SeededGenerator(seed: 21)
        let n = 500
        var values = (0..<(2 * n)).map { _ in Float(random.nextNormal() * 4) }
        values[1] = values[0]
        values[n + 1] = values[n]  // two coincident points share a leaf
        let tree = MapQuadTree(xs: Array(values[..<n]), ys: Array(values[n...]))
        let m = tree.count
        #expect(tree.nodes[2 * m] == Float(n))
        var leafPoints: Float = 0
        for node in 0..<m {
            let count = tree.nodes[2 * m + node]
            guard tree.links[node] >= 0 else {
                leafPoints += count
                continue
            }
            var (child, children, sumX) = (Int(tree.links[node]), Float(0), 0.0)
            while child < Int(tree.links[m + node]) {
                children += tree.nodes[2 * m + child]
                sumX += Double(tree.nodes[2 * m + child]) * Double(tree.nodes[child])
                child = Int(tree.links[m + child])
            }
            #expect(child == Int(tree.links[m + node]) && children == count, "node \(node)")
            #expect(abs(sumX / Double(count) - Double(tree.nodes[node])) < 1e-4 * (1 + abs(Double(tree.nodes[node]))))
        }
        #expect(leafPoints == Float(n))

        let device = try TestBackends.device()
        let map = try device.upload(HostTensor(shape: [2, n], values: values))
        let nodes = try device.upload(HostTensor(shape: [4, m], values: tree.nodes))
        let links = try device.uploadIndices(tree.links, shape: [2, m])
        let rows = try device.uploadIndices([Int32](repeating: 0, count: n + 1), shape: [n + 1])
        let none = try device.uploadIndices([0], shape: [1]), zero = try device.upload(HostTensor(shape: [1], values: [0]))
        func repulsion(theta: Float?) throws -> [Float] {
            let forces = try device.makeTensor([4, n]), partials = try device.makeTensor([2, n])
            if let theta {
                try device.tsneTreeRepulsion(map: map, nodes: nodes, links: links, forces: forces, partials: partials, theta: theta)
            } else {
                try device.tsneForces(map: map, rowStarts: rows, columns: none, affinities: zero, forces: forces, partials: partials)
            }
            return Array(try device.download(forces).values[(2 * n)...]) + Array(try device.download(partials).values[..<n])
        }
        let exact = try repulsion(theta: nil)
        expectClose(try repulsion(theta: 0), exact, relativeL2: Tolerance.deviceVsReference, "θ = 0")
        // Barnes-Hut at θ 0.5 errs by θ²-order fractions of the far field: 0.83 % on this map.
        expectClose(try repulsion(theta: 0.5), exact, relativeL2: 1e-2, "θ = 0.5")
    }

    /// Our trustworthiness of scikit-learn's map is scikit-learn's.
    @Test func trustworthinessIsScikitLearns() throws {
        let trust = Trustworthiness.score(original: features.values, map: try array("sklearn_map.npy"), points: summary.points,
                                          neighbors: summary.trustworthiness_neighbors)
        #expect(abs(trust - summary.trustworthiness) < 1e-9, "\(trust) against \(summary.trustworthiness)")
    }

    /// The forces are the KL divergence's gradient: 4(attraction − repulsion / Z) against central differences of
    /// KL(Y) = Σ p log(p / q̃) + log Z, on the float64 reference.
    @Test func theForcesAreTheDivergencesGradient() throws {
        let reference = ReferenceBackend(precision: .float64)
        var random = SeededGenerator(seed: 11)
        let n = 9
        let points = HostTensor.randomNormal([n, 3], using: &random)
        var tsne = TSNESettings()
        tsne.perplexity = 2
        let p = try TSNEEmbedder(backend: reference, settings: tsne).affinities(features: try reference.upload(points))
        let map = random.normals(2 * n)
        func evaluate(_ y: [Double]) throws -> (divergence: Double, gradient: [Double]) {
            let forces = try reference.makeTensor([4, n]), partials = try reference.makeTensor([2, n]), sums = try reference.makeTensor([2])
            try reference.tsneForces(map: try reference.upload(HostTensor(shape: [2, n], values: y.map(Float.init))),
                                     rowStarts: try reference.uploadIndices(p.rowStarts, shape: [n + 1]),
                                     columns: try reference.uploadIndices(p.columns, shape: [p.columns.count]),
                                     affinities: try reference.upload(HostTensor(shape: [p.values.count], values: p.values)),
                                     forces: forces, partials: partials)
            try reference.reduceForward(.sum, input: partials, output: sums, axes: 1...1)
            let (f, s) = (forces.values, sums.values)
            let gradient = (0..<(2 * n)).map { e in 4 * (f[e] - f[2 * n + e] / s[0]) }  // planar, as the map
            return (TSNEAffinities.divergence(partialSum: s[1], normalizer: s[0]), gradient)
        }
        // The map is uploaded as float32: difference at float32-representable points.
        let y = map.map { Double(Float($0)) }
        let analytic = try evaluate(y).gradient
        let numeric = try (0..<(2 * n)).map { e in
            var (plus, minus) = (y, y)
            plus[e] += 1.0 / 1024
            minus[e] -= 1.0 / 1024
            return (try evaluate(plus).divergence - (try evaluate(minus).divergence)) * 512
        }
        expectClose(analytic, numeric, relativeL2: 1e-4, "∂KL/∂y")
    }

    /// Early iterations on the device follow the float32 reference, and a run repeats byte for byte.
    @Test func theDeviceFollowsTheReferenceAndRepeats() throws {
        let device = try TestBackends.device(), reference = ReferenceBackend()
        let n = 60
        let subset = HostTensor(shape: [n, features.shape[1]], values: Array(features.values.prefix(n * features.shape[1])))
        var tsne = TSNESettings()
        (tsne.perplexity, tsne.iterations, tsne.explorationIterations) = (10, 12, 6)
        func run<B: Backend>(_ backend: B) throws -> [Float] {
            let embedder = TSNEEmbedder(backend: backend, settings: tsne)
            let p = try embedder.affinities(features: try backend.upload(subset))
            var random = SeededGenerator(seed: 3)
            return try embedder.embed(p, initial: (0..<(2 * n)).map { _ in Float(random.nextNormal() * 1e-2) }).map
        }
        let maps = [try run(device), try run(reference)]
        expectClose(maps[0].map(Double.init), maps[1].map(Double.init), relativeL2: 1e-4, "map after 12 iterations")
        #expect(try run(device) == maps[0])
    }

    /// PCA's components are the covariance's leading eigenvectors (a planted spectrum, found by full Jacobi on the
    /// host), with scikit-learn's signs, and its scores the centred features' projections.
    @Test func principalComponentsAreTheCovariancesEigenvectors() throws {
        var random = SeededGenerator(seed: 5)
        let (n, d) = (200, 12)
        let scales = (0..<d).map { 3.0 / Double($0 + 1) }
        let values = (0..<(n * d)).map { Float(random.nextNormal() * scales[$0 % d] + Double($0 % d)) }
        let pca = try PrincipalComponents(features: values, points: n, count: 3, on: try TestBackends.device())
        var covariance = [Double](repeating: 0, count: d * d)
        let mean = (0..<d).map { c in (0..<n).reduce(0.0) { $0 + Double(values[$1 * d + c]) } / Double(n) }
        for i in 0..<n { for a in 0..<d { for b in 0..<d {
            covariance[a * d + b] += (Double(values[i * d + a]) - mean[a]) * (Double(values[i * d + b]) - mean[b]) / Double(n - 1)
        } } }
        let (eigenvalues, vectors) = PrincipalComponents.symmetricEigen(covariance, size: d)
        let order = (0..<d).sorted { eigenvalues[$0] > eigenvalues[$1] }
        for (column, source) in order.prefix(3).enumerated() {
            var expected = (0..<d).map { vectors[$0 * d + source] }
            if let largest = expected.max(by: { abs($0) < abs($1) }), largest < 0 { expected = expected.map { -$0 } }
            expectClose((0..<d).map { pca.components[$0 * 3 + column] }, expected, relativeL2: 1e-4, "component \(column)")
            #expect(abs(pca.variances[column] - eigenvalues[source]) < 1e-4 * eigenvalues[source])
        }
        let scores = pca.project(values, points: n)
        let expectedFirst = (0..<n).map { i in (0..<d).reduce(0.0) { $0 + (Double(values[i * d + $1]) - mean[$1]) * pca.components[$1 * 3] } }
        expectClose(stride(from: 0, to: scores.count, by: 3).map { Double(scores[$0]) }, expectedFirst, relativeL2: 1e-5, "scores")
    }

    /// KL(P‖Q) of a map under P, over all pairs, in Double.
    static func exactDivergence(_ p: TSNEAffinities, map: [Float]) -> Double {
        let n = p.points
        func kernel(_ i: Int, _ j: Int) -> Double {
            let dx = Double(map[2 * i] - map[2 * j]), dy = Double(map[2 * i + 1] - map[2 * j + 1])
            return 1 / (1 + dx * dx + dy * dy)
        }
        var z = 0.0
        for i in 0..<n { for j in 0..<n where j != i { z += kernel(i, j) } }
        var divergence = 0.0
        for i in 0..<n {
            for entry in Int(p.rowStarts[i])..<Int(p.rowStarts[i + 1]) where p.values[entry] > 0 {
                let value = Double(p.values[entry])
                divergence += value * log(value * z / kernel(i, Int(p.columns[entry])))
            }
        }
        return divergence
    }
}
