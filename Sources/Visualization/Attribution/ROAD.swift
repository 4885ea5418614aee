import Foundation
import TensorOps

/// ROAD (Rong et al., "remove and debias"), as pytorch-grad-cam defines it: for each percentile p in 10…90, the
/// pixels above the map's p-th percentile (most relevant first) or below the complement's (least relevant first)
/// are removed and filled in by noisy linear imputation — each removed pixel the weighted mean of its 8 neighbours
/// (1/6 side, 1/12 corner), one sparse linear system per channel — and the class logit's change is recorded.
/// Combined score = (mean LeRF change − mean MoRF change) / 2: higher is more faithful.
public struct ROADResult: Sendable {
    public let mostRelevantFirst: [Double]
    public let leastRelevantFirst: [Double]
    public var combined: Double {
        let mean = { (values: [Double]) in values.reduce(0, +) / Double(max(values.count, 1)) }
        return (mean(leastRelevantFirst) - mean(mostRelevantFirst)) / 2
    }
}

extension ClassActivationMapper {
    /// ROAD per image. `maps` N×1×H×W at the input's size; `noise` is the imputation's Gaussian noise (pytorch-grad-cam
    /// uses 0.01), drawn from `seed`. The imputed images run as batches of `batch`.
    public func road(input: HostTensor, maps: HostTensor, classes: [Int], percentiles: [Double] = [10, 20, 30, 40, 50, 60, 70, 80, 90],
                     noise: Double = 0.01, seed: UInt64 = 0) throws -> [ROADResult] {
        let (channels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let positions = height * width, imageSize = channels * positions
        var random = SeededGenerator(seed: seed)
        return try classes.enumerated().map { image, target in
            let pixels = Array(input.values[image * imageSize..<(image + 1) * imageSize]).map(Double.init)
            let map = Array(maps.values[image * positions..<(image + 1) * positions])
            var images: [[Float]] = [pixels.map(Float.init)]
            for percentile in percentiles {
                for mostRelevantFirst in [true, false] {
                    // pytorch-grad-cam keeps the pixels strictly below the percentile (of 1 − map for LeRF).
                    let ranking = mostRelevantFirst ? map : map.map { 1 - $0 }
                    let threshold = Self.percentile(ranking, percentile)
                    let known = ranking.map { $0 < threshold }
                    images.append(Self.impute(pixels, known: known, channels: channels, height: height, width: width,
                                              noise: noise, random: &random).map(Float.init))
                }
            }
            // The class's logit, as pytorch-grad-cam's ClassifierOutputTarget scores it.
            let logits = try outputRows(of: images, shape: input.shape).map { Double($0[target]) }
            let changes = logits.dropFirst().map { $0 - logits[0] }
            return ROADResult(mostRelevantFirst: stride(from: 0, to: changes.count, by: 2).map { changes[$0] },
                              leastRelevantFirst: stride(from: 1, to: changes.count, by: 2).map { changes[$0] })
        }
    }

    /// numpy's default percentile: linear interpolation between the closest ranks.
    static func percentile(_ values: [Float], _ p: Double) -> Float {
        let sorted = values.sorted()
        let position = p / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
        let fraction = Float(position - Double(low))
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }

    /// Fills the unknown pixels of every channel with the solution of x_i·Σ_valid w = Σ_neighbours w·x (known
    /// neighbours' values, unknown ones' solutions) by conjugate gradients, then adds noise.
    static func impute(_ pixels: [Double], known: [Bool], channels: Int, height: Int, width: Int, noise: Double,
                       random: inout SeededGenerator) -> [Double] {
        let offsets: [(Int, Int, Double)] = [(1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
                                             (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6)]
        let unknown = known.indices.filter { !known[$0] }
        guard !unknown.isEmpty else { return pixels }
        var slot = [Int](repeating: -1, count: known.count)
        for (index, position) in unknown.enumerated() { slot[position] = index }
        // Per unknown pixel: its diagonal (Σ valid weights) and its neighbours as (unknown slot or known position, w).
        var diagonal = [Double](repeating: 0, count: unknown.count)
        var coupled = [[(Int, Double)]](repeating: [], count: unknown.count)
        var sources = [[(Int, Double)]](repeating: [], count: unknown.count)
        for (index, position) in unknown.enumerated() {
            let (row, column) = (position / width, position % width)
            for (dy, dx, weight) in offsets {
                let (r, c) = (row + dy, column + dx)
                guard r >= 0, r < height, c >= 0, c < width else { continue }
                diagonal[index] += weight
                let neighbour = r * width + c
                if known[neighbour] { sources[index].append((neighbour, weight)) } else { coupled[index].append((slot[neighbour], weight)) }
            }
        }
        var result = pixels
        for channel in 0..<channels {
            let base = channel * height * width
            let rhs = sources.map { $0.reduce(0) { $0 + $1.1 * pixels[base + $1.0] } }
            let solution = conjugateGradient(rhs: rhs) { x in
                x.indices.map { i in diagonal[i] * x[i] - coupled[i].reduce(0) { $0 + $1.1 * x[$1.0] } }
            }
            for (index, position) in unknown.enumerated() {
                result[base + position] = solution[index] + (noise > 0 ? noise * random.nextNormal() : 0)
            }
        }
        return result
    }

    /// Solves M·x = rhs for a symmetric positive definite M given as a product, to a relative residual of 1e−12.
    static func conjugateGradient(rhs: [Double], _ multiply: ([Double]) -> [Double]) -> [Double] {
        var x = [Double](repeating: 0, count: rhs.count)
        var residual = rhs, direction = rhs
        var squared = residual.reduce(0) { $0 + $1 * $1 }
        let target = max(squared, 1e-300) * 1e-24
        var iterations = 0
        while squared > target && iterations < 10 * rhs.count + 100 {
            iterations += 1
            let product = multiply(direction)
            let step = squared / zip(direction, product).reduce(0) { $0 + $1.0 * $1.1 }
            for i in x.indices {
                x[i] += step * direction[i]
                residual[i] -= step * product[i]
            }
            let next = residual.reduce(0) { $0 + $1 * $1 }
            for i in direction.indices { direction[i] = residual[i] + next / squared * direction[i] }
            squared = next
        }
        return x
    }
}
