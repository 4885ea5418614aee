import Foundation
import ModelGraph
import TensorOps

/// Adebayo et al.'s model-parameter randomization test, cascading from the output: the weights of the last
/// convolution or linear layer are replaced by seeded random ones, then those of the layer before as well, and so
/// on; after each step the map is made again and compared with the original by Spearman rank correlation. A map
/// that explains the model must change as the model is destroyed.
public struct CascadingRandomization {
    /// One step: the layer whose weights (and those of every layer after it) are random, and the correlation.
    public struct Step: Sendable {
        public let layer: String
        public let rankCorrelation: Double
    }

    public let graph: Graph
    public let method: CAMMethod
    public let layers: [String]
    public let seed: UInt64

    public init(graph: Graph, method: CAMMethod, layers: [String], seed: UInt64 = 0) {
        (self.graph, self.method, self.layers, self.seed) = (graph, method, layers, seed)
    }

    /// The correlation after each step, for `classes` of `input`, against `original` (the unrandomized maps).
    public func run<B: Backend>(backend: B, input: HostTensor, classes: [Int], original: HostTensor) throws -> [Step] {
        var randomized = graph
        var random = SeededGenerator(seed: seed)
        var steps: [Step] = []
        let weighted = graph.nodes.filter { node in
            switch node.operation {
            case .conv, .linear: graph.constants[node.inputs[1]] != nil
            default: false
            }
        }
        for node in weighted.reversed() {
            let name = node.inputs[1]
            guard let weight = randomized.constants[name] else { continue }
            // The same spread as the trained weights, so activations keep their scale.
            let mean = weight.values.reduce(0) { $0 + Double($1) } / Double(max(weight.values.count, 1))
            let spread = (weight.values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
                / Double(max(weight.values.count, 1))).squareRoot()
            randomized.constants[name] = .randomNormal(weight.shape, scale: Float(spread), using: &random)
            let mapper = try ClassActivationMapper(graph: randomized, backend: backend, layers: layers, method: method,
                                                   inputShape: input.shape)
            let maps = try backend.download(try mapper.explain(try backend.upload(input), classes: classes).maps)
            steps.append(Step(layer: node.name, rankCorrelation: Self.spearman(maps.values, original.values)))
        }
        return steps
    }

    /// Spearman's ρ: the Pearson correlation of the ranks (ties get their mean rank); 0 when either is constant.
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double {
        func ranks(_ values: [Float]) -> [Double] {
            let order = values.indices.sorted { values[$0] < values[$1] }
            var result = [Double](repeating: 0, count: values.count)
            var start = 0
            while start < order.count {
                var end = start
                while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
                for place in start...end { result[order[place]] = Double(start + end) / 2 }
                start = end + 1
            }
            return result
        }
        let (x, y) = (ranks(a), ranks(b))
        let n = Double(x.count)
        let (mx, my) = (x.reduce(0, +) / n, y.reduce(0, +) / n)
        var (sxy, sxx, syy) = (0.0, 0.0, 0.0)
        for (u, v) in zip(x, y) {
            sxy += (u - mx) * (v - my)
            sxx += (u - mx) * (u - mx)
            syy += (v - my) * (v - my)
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }
}
