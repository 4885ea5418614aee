import Foundation
import TensorOps

extension ClassActivationMapper {
    /// Score-CAM's channel weights N×K (pytorch-grad-cam): each channel's activation upsampled to the input size
    /// (bilinear, aligned corners) and min-max normalized (ε 1e−8) masks the image, on the backend; the weights are the softmax over
    /// channels of the class score of each masked image. The masked images run in batches of `batch`; the original
    /// forward pass is run again at the end so that later layers read its activations.
    func scoreCAMWeights(layer: String, input: B.Tensor, classes: [Int], geometry: CAMGeometry) throws -> B.Tensor {
        let (images, channels) = (geometry.images, geometry.channels)
        let (imageChannels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let upsampled = try backend.makeTensor([images, channels, height, width])
        try backend.resizeForward(input: try spatialActivation(layer), output: upsampled, mode: .bilinear(alignCorners: true))
        let masks = try backend.reshaped(upsampled, to: [images * channels, 1, height, width])
        try backend.minMaxNormalize(input: masks, output: masks, epsilon: 1e-8)
        let imageSize = imageChannels * height * width, plane = height * width

        var weights: [Float] = []
        let picture = try backend.makeTensor([1, imageChannels, height, width])
        for (image, target) in classes.enumerated() {
            try backend.copyElements(input, from: image * imageSize, into: picture, at: 0, count: imageSize)
            var scores: [Double] = []
            for start in stride(from: 0, to: channels, by: batch) {
                let count = min(batch, channels - start)
                let chunkMasks = try backend.makeTensor([count, 1, height, width])
                try backend.copyElements(masks, from: (image * channels + start) * plane, into: chunkMasks, at: 0,
                                         count: count * plane)
                let masked = try backend.makeTensor([count, imageChannels, height, width])
                try backend.binaryForward(.mul, picture, chunkMasks, output: masked)
                // Only the class scores of the masked images come back, for the softmax over channels.
                let output = try backend.download(try executor.forwardOutput(masked))
                scores += (0..<count).map { Double(output.values[$0 * output.shape[1] + target]) }
            }
            let largest = scores.max() ?? 0
            let exponentials = scores.map { exp($0 - largest) }
            let total = exponentials.reduce(0, +)
            weights += exponentials.map { Float($0 / total) }
        }
        try executor.forward(input)
        return try backend.upload(HostTensor(shape: geometry.weightShape, values: weights))
    }
}
