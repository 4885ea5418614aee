import Foundation
import ModelGraph
import TensorOps

/// How faithful one image's map is to the model, as torch-cam measures it, on softmax scores of the class.
public struct CAMFaithfulness: Sendable {
    /// Area under the score curve as the highest-ranked positions are set to zero (RISE's deletion; lower is better).
    public let deletionAUC: Double
    /// Area under the score curve as the highest-ranked positions are restored onto zeros (insertion; higher is
    /// better).
    public let insertionAUC: Double
    /// relu(p − p_masked) / (p + 1e−7) with the image multiplied by its map (Grad-CAM++'s average drop, per image).
    public let drop: Double
    /// Whether the masked image scores higher (Grad-CAM++'s increase in confidence, per image).
    public let increase: Bool
}

extension ClassActivationMapper {
    /// torch-cam's `DeletionInsertionMetric` (`steps` intervals, zero baseline, positions ranked by the map with
    /// ties in index order, trapezoid areas over the perturbed fraction) and `ClassificationMetric`, on the softmax
    /// of the model's output. `input` N×C×H×W, `maps` N×1×H×W at the input's size. The perturbed images run as
    /// batches of `batch` on the backend.
    public func faithfulness(input: HostTensor, maps: HostTensor, classes: [Int], steps: Int = 20) throws -> [CAMFaithfulness] {
        let (channels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let positions = height * width, imageSize = channels * positions
        return try classes.enumerated().map { image, target in
            let pixels = Array(input.values[image * imageSize..<(image + 1) * imageSize])
            let map = Array(maps.values[image * positions..<(image + 1) * positions])
            var rank = [Int](repeating: 0, count: positions)
            for (place, position) in map.indices.sorted(by: { map[$0] > map[$1] || (map[$0] == map[$1] && $0 < $1) }).enumerated() {
                rank[position] = place
            }
            let stepSize = (positions + steps - 1) / steps
            let counts = Array(stride(from: 0, to: positions, by: stepSize)) + [positions]
            // Images to score: the original, the map-masked one, then deletion and insertion at each interior count,
            // and the all-zero image (deletion's last point, insertion's first).
            func perturbed(_ count: Int, keepRanked: Bool) -> [Float] {
                pixels.enumerated().map { index, value in ((rank[index % positions] < count) == keepRanked) ? value : 0 }
            }
            var images = [pixels, pixels.enumerated().map { $1 * map[$0 % positions] }]
            for count in counts.dropFirst().dropLast() { images += [perturbed(count, keepRanked: false), perturbed(count, keepRanked: true)] }
            images.append([Float](repeating: 0, count: imageSize))
            let scores = try softmaxScores(of: images, shape: input.shape, target: target)

            let interior = counts.count - 2
            let deletion = [scores[0]] + (0..<interior).map { scores[2 + 2 * $0] } + [scores[scores.count - 1]]
            let insertion = [scores[scores.count - 1]] + (0..<interior).map { scores[3 + 2 * $0] } + [scores[0]]
            let fractions = counts.map { Double($0) / Double(positions) }
            func area(_ curve: [Double]) -> Double {
                var total = 0.0
                for index in 1..<curve.count {
                    let width: Double = fractions[index] - fractions[index - 1]
                    total += width * (curve[index] + curve[index - 1]) / 2
                }
                return total
            }
            let (original, masked) = (scores[0], scores[1])
            return CAMFaithfulness(deletionAUC: area(deletion), insertionAUC: area(insertion),
                                   drop: max(original - masked, 0) / (original + 1e-7), increase: original < masked)
        }
    }

    /// softmax(output)[target] for each image.
    private func softmaxScores(of images: [[Float]], shape: TensorShape, target: Int) throws -> [Double] {
        try outputRows(of: images, shape: shape).map { row in
            let logits = row.map(Double.init)
            let largest = logits.max() ?? 0
            let total = logits.reduce(0) { $0 + exp($1 - largest) }
            return exp(logits[target] - largest) / total
        }
    }

    /// The model's output row for each image (each `shape` without its batch axis), run in batches of `batch`.
    func outputRows(of images: [[Float]], shape: TensorShape) throws -> [[Float]] {
        var rows: [[Float]] = []
        for start in stride(from: 0, to: images.count, by: batch) {
            let chunk = images[start..<min(start + batch, images.count)]
            let tensor = HostTensor(shape: TensorShape([chunk.count] + shape.dimensions.dropFirst()), values: chunk.flatMap { $0 })
            let output = try scores(try backend.upload(tensor))
            let width = output.shape[1]
            rows += (0..<chunk.count).map { Array(output.values[$0 * width..<($0 + 1) * width]) }
        }
        return rows
    }
}

/// The faithfulness measures `convlens cam --metric` computes: torch-cam's deletion and insertion AUC and average
/// drop / increase in confidence, and pytorch-grad-cam's ROAD combined score.
public enum CAMMetric: String, Sendable, CaseIterable {
    case deletion, insertion
    case dropIncrease = "drop-increase"
    case road

    /// Whether `CAMFaithfulness` computes it (ROAD has its own pass, `ClassActivationMapper.road`).
    public var isTorchCAMMeasure: Bool { self != .road }
}

