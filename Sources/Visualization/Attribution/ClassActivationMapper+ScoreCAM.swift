import Foundation
import TensorOps

extension ClassActivationMapper {
    /// Score-CAM's channel weights N×K (pytorch-grad-cam): each channel's activation upsampled to the input size
    /// (bilinear, aligned corners) and min-max normalized (ε 1e−8) masks the image, on the backend; the weights are the softmax over
    /// channels of the class score of each masked image. The masked images run in batches of `batch`; the original
    /// forward pass is run again at the end so that later layers read its activations.
    func scoreCAMWeights(layer: String, input: B.Tensor, classes: [Int], geometry: CAMGeometry) throws -> B.Tensor {
        let (images, channels) = (geometry.images, geometry.channels)
        let (height, width) = (input.shape[2], input.shape[3])
        let upsampled = try backend.makeTensor([images, channels, height, width])
        try backend.resizeForward(input: try spatialActivation(layer), output: upsampled, mode: .bilinear(alignCorners: true))
        let masks = try backend.reshaped(upsampled, to: [images * channels, 1, height, width])
        try backend.minMaxNormalize(input: masks, output: masks, epsilon: 1e-8)

        var weights: [Float] = []
        for (image, target) in classes.enumerated() {
            let picture = try self.picture(image, of: input)
            weights += Self.softmax(try maskedScores(picture: picture, masks: masks, first: image * channels,
                                                     count: channels, target: target))
        }
        try executor.forward(input)
        return try backend.upload(HostTensor(shape: geometry.weightShape, values: weights))
    }

    /// The class `target`'s score of `picture` (1×C×H×W) masked by each of `count` planes of `masks` (P×1×H×W) from
    /// plane `first`, `batch` masked images per forward pass that returns only the output. `prepare` may change a
    /// chunk's masks first (given the chunk and its first plane); `scale` multiplies the masked images.
    func maskedScores(picture: B.Tensor, masks: B.Tensor, first: Int, count: Int, target: Int, scale: Float? = nil,
                      prepare: ((B.Tensor, Int) throws -> Void)? = nil) throws -> [Float] {
        let (imageChannels, height, width) = (picture.shape[1], picture.shape[2], picture.shape[3])
        let plane = height * width
        let factor = try scale.map { try backend.upload(HostTensor(shape: [1], values: [$0])) }
        var scores: [Float] = []
        for start in stride(from: first, to: first + count, by: batch) {
            let chunk = min(batch, first + count - start)
            let chunkMasks = try backend.makeTensor([chunk, 1, height, width])
            try backend.copyElements(masks, from: start * plane, into: chunkMasks, at: 0, count: chunk * plane)
            try prepare?(chunkMasks, start)
            let masked = try backend.makeTensor([chunk, imageChannels, height, width])
            try backend.binaryForward(.mul, picture, chunkMasks, output: masked)
            if let factor { try backend.binaryForward(.mul, masked, factor, output: masked) }
            let output = try backend.download(try executor.forwardOutput(masked))
            scores += (0..<chunk).map { output.values[$0 * output.shape[1] + target] }
        }
        return scores
    }

    /// Image `image` of the batch `input`, as a batch of one.
    func picture(_ image: Int, of input: B.Tensor) throws -> B.Tensor {
        let size = input.shape.count / input.shape[0]
        let picture = try backend.makeTensor(TensorShape([1] + input.shape.dimensions.dropFirst()))
        try backend.copyElements(input, from: image * size, into: picture, at: 0, count: size)
        return picture
    }

    /// The softmax of `scores`, in double precision.
    static func softmax(_ scores: [Float]) -> [Float] {
        let largest = Double(scores.max() ?? 0)
        let exponentials = scores.map { exp(Double($0) - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { Float($0 / total) }
    }
}
