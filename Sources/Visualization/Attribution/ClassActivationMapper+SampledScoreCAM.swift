import Foundation
import TensorOps

extension ClassActivationMapper {
    /// SS-CAM's or IS-CAM's channel weights N×K, as torch-cam computes them. Each channel's activation is min-max
    /// normalized at the layer's size (ε 1e−8) and upsampled to the input (bilinear, half-pixel centres); each
    /// sample s adds one score gain per channel, score(masked image) − score(image), in float32:
    /// - SS-CAM masks the image with (mask + noise), the noise drawn per element from `sampling.seed` in the order
    ///   sample, image, channel, row, column (one stream, as torch-cam draws one N×K×H×W tensor per sample);
    /// - IS-CAM masks it with the mask and scales the product by c_s = Σ_{j ≤ s+1} j / S (torch-cam's cumulative
    ///   coefficient).
    /// The weights are the softmax over channels of the mean gain. `scores` are the full pass's outputs (the
    /// baseline); that pass is run again at the end so that later layers read its activations.
    func sampledScoreCAMWeights(layer: String, input: B.Tensor, classes: [Int], scores: HostTensor,
                                geometry: CAMGeometry) throws -> B.Tensor {
        let (images, channels) = (geometry.images, geometry.channels)
        let (height, width) = (input.shape[2], input.shape[3])
        let activation = try spatialActivation(layer)
        let normalized = try backend.makeTensor([images * channels, 1, activation.shape[2], activation.shape[3]])
        try backend.copyElements(activation, from: 0, into: normalized, at: 0, count: activation.shape.count)
        try backend.minMaxNormalize(input: normalized, output: normalized, epsilon: 1e-8)
        let masks = try backend.makeTensor([images * channels, 1, height, width])
        try backend.resizeForward(input: normalized, output: masks, mode: .bilinear(alignCorners: false))

        let samples = sampling.samples(for: method), plane = height * width
        let pictures = try (0..<images).map { try picture($0, of: input) }
        var gains = [Float](repeating: 0, count: images * channels)
        var coefficient = 0.0  // IS-CAM's, summed in double precision as torch-cam's Python float is
        for sample in 0..<samples {
            coefficient += Double(sample + 1) / Double(samples)
            for (image, target) in classes.enumerated() {
                let baseline = scores.values[image * scores.shape[1] + target]
                // The noise is drawn on the backend, where the masks are: 25 million values per sample on
                // ResNet-18's layer4 would otherwise be drawn on the host and uploaded.
                let addNoise = { (chunk: B.Tensor, first: Int) throws in
                    try self.backend.addSeededNormal(into: chunk, seed: self.sampling.seed,
                                                     firstNormal: UInt64((sample * images * channels + first) * plane),
                                                     scale: self.sampling.noise(for: self.method))
                }
                let scored = try maskedScores(
                    picture: pictures[image], masks: masks, first: image * channels, count: channels, target: target,
                    scale: method == .isCAM ? Float(coefficient) : nil, prepare: method == .ssCAM ? addNoise : nil)
                for (channel, score) in scored.enumerated() { gains[image * channels + channel] += score - baseline }
            }
        }
        var weights: [Float] = []
        for image in 0..<images {
            weights += Self.softmax(gains[image * channels..<(image + 1) * channels].map { $0 / Float(samples) })
        }
        try executor.forward(input)
        return try backend.upload(HostTensor(shape: geometry.weightShape, values: weights))
    }
}
