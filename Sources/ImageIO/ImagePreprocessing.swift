import Foundation
import TensorOps

/// How images become a model's input tensor and back: size, channel count and per-channel normalization.
///
/// ``tensor(from:)`` converts channels, resizes bilinearly, scales bytes to 0…1 and normalizes each channel
/// as `(x − mean[c]) / std[c]`, the torchvision `ToTensor` + `Normalize` convention.
public struct ImagePreprocessing: Sendable, Equatable {
    /// Per-channel mean subtracted after scaling to 0…1; one entry per channel.
    public var mean: [Float]
    /// Per-channel divisor applied after the mean; one positive entry per channel.
    public var std: [Float]
    /// Output height in pixels.
    public var height: Int
    /// Output width in pixels.
    public var width: Int
    /// Output channels: 1 (gray) or 3 (RGB).
    public var channels: Int

    public init(mean: [Float], std: [Float], height: Int, width: Int, channels: Int) {
        self.mean = mean
        self.std = std
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// torchvision's ImageNet models: 224×224 RGB, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
    public static let imagenet = ImagePreprocessing(
        mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], height: 224, width: 224, channels: 3)

    /// MNIST digits: 28×28 gray, mean 0.1307, std 0.3081.
    public static let mnist = ImagePreprocessing(mean: [0.1307], std: [0.3081], height: 28, width: 28, channels: 1)

    /// Resize and scale to 0…1 only: mean 0, std 1 for every channel.
    public static func none(height: Int, width: Int, channels: Int) -> ImagePreprocessing {
        ImagePreprocessing(
            mean: Array(repeating: 0, count: max(channels, 0)), std: Array(repeating: 1, count: max(channels, 0)),
            height: height, width: width, channels: channels)
    }

    /// Throws unless the settings can work: 1 or 3 channels, positive sizes, one finite mean and one positive
    /// finite std per channel.
    /// - Throws: `ImagePreprocessingError` saying which setting is wrong.
    /// The largest height or width a model input is resized to: 8192 px (805 MB of float32 per RGB image, past
    /// what any CNN's activations fit in beside it).
    public static let maximumSide = 8192

    public func validate() throws(ImagePreprocessingError) {
        guard channels == 1 || channels == 3 else {
            throw ImagePreprocessingError(reason: "channels must be 1 or 3, got \(channels)")
        }
        guard height > 0, width > 0 else {
            throw ImagePreprocessingError(reason: "output size must be positive, got \(height)×\(width)")
        }
        guard height <= Self.maximumSide, width <= Self.maximumSide else {
            throw ImagePreprocessingError(reason: "a \(height)×\(width) input would need "
                + "\(String(format: "%.1f", Double(height) * Double(width) * Double(channels) * 4 / 1e9)) GB per image; "
                + "the largest side accepted is \(Self.maximumSide) px")
        }
        guard mean.count == channels, std.count == channels else {
            throw ImagePreprocessingError(
                reason: "\(channels) channels need \(channels) means and stds, got \(mean.count) and \(std.count)")
        }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ImagePreprocessingError(reason: "means must be finite and stds positive, got \(mean) and \(std)")
        }
    }

    /// A batch of images as one `N × channels × height × width` float32 tensor (NCHW).
    ///
    /// Per image: convert channels (RGB/RGBA → gray by BT.601 luma, gray → RGB by replication, alpha dropped),
    /// resize to `height × width` bilinearly with half-pixel centres and edge clamping (PyTorch's
    /// `F.interpolate(mode="bilinear", align_corners=False, antialias=False)`), divide by 255, then apply
    /// `(x − mean[c]) / std[c]`.
    /// - Parameter images: The batch, in order; sizes and channel counts may differ.
    /// - Returns: The tensor, image `n` at batch index `n`.
    /// - Throws: `ImagePreprocessingError` for invalid settings (see ``validate()``), an empty batch or an empty
    ///   image.
    public func tensor(from images: [RasterImage]) throws(ImagePreprocessingError) -> HostTensor {
        try validate()
        guard !images.isEmpty else { throw ImagePreprocessingError(reason: "no images to preprocess") }
        let plane = height * width
        var values = [Float](repeating: 0, count: images.count * channels * plane)
        for (index, image) in images.enumerated() {
            guard image.width > 0, image.height > 0 else {
                throw ImagePreprocessingError(imageIndex: index, reason: "image is \(image.width)×\(image.height)")
            }
            for (channel, source) in image.planes(channels: channels).enumerated() {
                let resized = resizeBilinear(
                    source, height: image.height, width: image.width, toHeight: height, toWidth: width)
                let offset = (index * channels + channel) * plane
                for (position, value) in resized.enumerated() {
                    values[offset + position] = (value / 255 - mean[channel]) / std[channel]
                }
            }
        }
        return HostTensor(shape: [images.count, channels, height, width], values: values)
    }

    /// One image of an NCHW tensor made by ``tensor(from:)`` (or an optimizer working in the same space) as
    /// 8-bit pixels: undoes the normalization, scales by 255, clamps to 0…255 and rounds.
    ///
    /// The size comes from the tensor, so images of any resolution come back; there is no resize.
    /// - Parameters:
    ///   - tensor: `N × channels × H × W`.
    ///   - index: The image in the batch, `0..<N`.
    /// - Returns: A gray (1 channel) or RGB (3 channel) image of `W × H`.
    /// - Precondition: The settings are valid, `tensor` is rank 4 with ``channels`` channels and `index` is in
    ///   the batch.
    public func image(from tensor: HostTensor, index: Int) -> RasterImage {
        let shape = tensor.shape
        precondition(shape.rank == 4 && shape[1] == channels, "need N×\(channels)×H×W, got \(shape)")
        precondition((0..<shape[0]).contains(index), "image \(index) of a batch of \(shape[0])")
        precondition(mean.count == channels && std.count == channels, "one mean and std per channel")
        let (imageHeight, imageWidth) = (shape[2], shape[3])
        let plane = imageHeight * imageWidth
        var pixels = [UInt8](repeating: 0, count: plane * channels)
        for channel in 0..<channels {
            let offset = (index * channels + channel) * plane
            for position in 0..<plane {
                let level = (tensor.values[offset + position] * std[channel] + mean[channel]) * 255
                // NaN compares false everywhere and lands on 0, like any other unusable value.
                pixels[position * channels + channel] = level >= 255 ? 255 : (level > 0 ? UInt8(level.rounded()) : 0)
            }
        }
        return RasterImage(width: imageWidth, height: imageHeight, channels: channels, pixels: pixels)
    }
}
