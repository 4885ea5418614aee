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
    /// ROAD per image. `maps` N×1×H×W at the input's size; `noise` is the imputation's Gaussian noise on the
    /// removed pixels (pytorch-grad-cam uses 0.01), drawn on the host from `seed` so runs repeat byte for byte.
    /// The imputation (`linearImputation`) and the forward passes run on the backend in batches of `batch`;
    /// only the class logits come back.
    public func road(input: HostTensor, maps: HostTensor, classes: [Int], percentiles: [Double] = [10, 20, 30, 40, 50, 60, 70, 80, 90],
                     noise: Double = 0.01, seed: UInt64 = 0) throws -> [ROADResult] {
        let (channels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let positions = height * width, imageSize = channels * positions
        var random = SeededGenerator(seed: seed)
        return try classes.enumerated().map { image, target in
            let pixels = try backend.upload(HostTensor(shape: [1, channels, height, width],
                                                       values: Array(input.values[image * imageSize..<(image + 1) * imageSize])))
            let map = Array(maps.values[image * positions..<(image + 1) * positions])
            // Variant 0 keeps every pixel: the original image, scored in the same batches.
            var masks: [[Float]] = [[Float](repeating: 1, count: positions)]
            for percentile in percentiles {
                for mostRelevantFirst in [true, false] {
                    // pytorch-grad-cam keeps the pixels strictly below the percentile (of 1 − map for LeRF).
                    let ranking = mostRelevantFirst ? map : map.map { 1 - $0 }
                    let threshold = Self.percentile(ranking, percentile)
                    masks.append(ranking.map { $0 < threshold ? 1 : 0 })
                }
            }
            // Equal batches, the last topped up with copies of the original, so every forward reuses the buffers
            // of the first (a new batch size allocates the whole network's activations again).
            let batches = (masks.count + batch - 1) / batch, size = (masks.count + batches - 1) / batches
            let padded = masks + Array(repeating: masks[0], count: batches * size - masks.count)
            var logits: [Double] = []
            for start in stride(from: 0, to: padded.count, by: size) {
                let output = try scores(try imputed(pixels, masks: Array(padded[start..<start + size]), noise: noise, random: &random))
                logits += (0..<size).map { Double(output.values[$0 * output.shape[1] + target]) }
            }
            logits.removeLast(padded.count - masks.count)
            let changes = logits.dropFirst().map { $0 - logits[0] }
            return ROADResult(mostRelevantFirst: stride(from: 0, to: changes.count, by: 2).map { changes[$0] },
                              leastRelevantFirst: stride(from: 1, to: changes.count, by: 2).map { changes[$0] })
        }
    }

    /// The image (1×C×H×W) under each mask, its removed pixels imputed on the backend, plus `noise`·N(0, 1) on
    /// each removed pixel (drawn mask by mask, channel by channel, in pixel order).
    private func imputed(_ image: B.Tensor, masks: [[Float]], noise: Double, random: inout SeededGenerator) throws -> B.Tensor {
        let (channels, height, width) = (image.shape[1], image.shape[2], image.shape[3])
        let output = try backend.makeTensor([masks.count, channels, height, width])
        try backend.linearImputation(
            image: image, known: try backend.upload(HostTensor(shape: [masks.count, 1, height, width], values: masks.flatMap { $0 })),
            output: output, scratch: try backend.makeTensor([3, masks.count, channels, height, width]))
        guard noise > 0 else { return output }
        var values = [Float](repeating: 0, count: output.shape.count)
        for (index, mask) in masks.enumerated() {
            for channel in 0..<channels {
                let start = (index * channels + channel) * mask.count
                for (position, kept) in mask.enumerated() where kept == 0 {
                    values[start + position] = Float(noise * random.nextNormal())
                }
            }
        }
        try backend.binaryForward(.add, output, try backend.upload(HostTensor(shape: output.shape, values: values)), output: output)
        return output
    }

    /// numpy's default percentile: linear interpolation between the closest ranks.
    static func percentile(_ values: [Float], _ p: Double) -> Float {
        let sorted = values.sorted()
        let position = p / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
        let fraction = Float(position - Double(low))
        return sorted[low] + (sorted[high] - sorted[low]) * fraction
    }
}
