import Foundation
import TensorOps

/// Everything that shapes a filter-visualization run. The defaults are Lucid's, which give good pictures without
/// tuning: 128 px, Adam at 0.05, 512 steps, jitter 8 px, scale 0.9–1.1, rotation ±10°, an FFT parameterization with
/// decorrelated colour for 3-channel inputs and a pixel one for 1-channel inputs.
public struct FilterVisualizationSettings: Sendable {
    /// How the optimized image is represented.
    public enum Parameterization: String, Sendable, CaseIterable {
        /// One free value per pixel and channel (before the sigmoid).
        case pixel
        /// A Fourier spectrum scaled by 1/frequency (Lucid's `fft_image`), which favours natural-image statistics.
        case fft
        /// MaCo (Fel et al., NeurIPS 2023): only the Fourier phase is optimized, under the fixed magnitude spectrum
        /// of natural photos, and each step sees random crops of shrinking size plus noise instead of Lucid's
        /// transforms (see `MacoSettings`).
        case maco
    }

    /// What is maximized for each image of the batch.
    public enum Objective: String, Sendable, CaseIterable {
        /// The mean of the channel's activation over all positions.
        case channel
        /// The channel's activation at the centre position.
        case neuron
        /// A class score before softmax: the layer's output must be N×classes.
        case logit
    }

    public enum Optimizer: String, Sendable, CaseIterable {
        case adam, sgd
    }

    /// The value (or node) name of the layer to look at.
    public var layer: String
    /// One image per entry: the channel (or class, for `.logit`) it maximizes.
    public var channels: [Int]
    public var size = 128
    /// Optimization steps per octave.
    public var steps = 512
    public var learningRate: Float = 0.05
    public var optimizer = Optimizer.adam
    public var seed: UInt64 = 0
    public var objective = Objective.channel
    /// Minimize instead of maximize.
    public var negative = false
    /// Weight of Lucid's Gram-matrix diversity term across the batch (0: off).
    public var diversity: Float = 0
    /// Largest random shift per step, in pixels.
    public var jitter = 8
    /// Range of the random scale per step.
    public var scaleRange: ClosedRange<Float> = 0.9...1.1
    /// Largest random rotation per step, in degrees.
    public var rotation: Float = 10
    /// Blur the parameterization every `blurEvery` steps by a Gaussian of `blurSigma` pixels (nil: never).
    public var blurEvery: Int?
    public var blurSigma: Float = 0.5
    /// Render at this many sizes, smallest first, each octave's result resized up to start the next (DeepDream's
    /// octaves): coarse structure forms at the small sizes, detail at the large ones. 1: one size only.
    public var octaves = 1
    /// The ratio between consecutive octave sizes; the last octave is `size`.
    public var octaveScale: Float = 1.4
    /// Weight of the L2 penalty on the image's distance from mid-grey.
    public var l2: Float = 0
    /// Weight of the total-variation penalty.
    public var tv: Float = 0
    public var parameterization: Parameterization
    /// Decorrelate colour (Lucid's colour-correlation square root); only for 3-channel images.
    public var decorrelate: Bool
    /// MaCo's crops, noise and magnitude table (used with `.maco`).
    public var maco = MacoSettings()
    /// The model's input normalization: images in [0, 1] become (x − mean) / std per channel. Its length is the
    /// number of image channels.
    public var mean: [Float]
    public var std: [Float]

    /// Lucid's defaults for a model whose input has `mean.count` channels.
    public init(layer: String, channels: [Int], mean: [Float], std: [Float]) {
        self.layer = layer
        self.channels = channels
        self.mean = mean
        self.std = std
        let color = mean.count == 3
        parameterization = color ? .fft : .pixel
        decorrelate = color
    }

    /// Image channels (1 for gray models, 3 for colour).
    public var imageChannels: Int { mean.count }

    /// The colour a zero parameter renders, per channel: the model's mean colour (the input its normalization maps to
    /// zero), kept within `startColourRange`; mid-grey, as Lucid starts, when the normalization is the identity
    /// (`--preprocess none`: mean 0, std 1), which says nothing about the data. Taken literally, that mean is black,
    /// where the sigmoid is saturated and no gradient reaches the parameter.
    public var startColour: [Float] {
        if mean.allSatisfy({ $0 == 0 }) && std.allSatisfy({ $0 == 1 }) {
            return Array(repeating: 0.5, count: mean.count)
        }
        return mean.map { min(max($0, Self.startColourRange.lowerBound), Self.startColourRange.upperBound) }
    }

    /// Where the sigmoid's slope is at least a third of its peak (0.09 of 0.25 at the ends), so the ascent moves
    /// from the first step.
    static let startColourRange: ClosedRange<Float> = 0.1...0.9

    /// The image size of each octave, smallest first, ending at `size`.
    /// (Settings `validate` refuses give one octave of `size` here, never a crash.)
    public var octaveSizes: [Int] {
        let count = (1...16).contains(octaves) ? octaves : 1
        let scale = octaveScale > 1 && octaveScale.isFinite ? Double(octaveScale) : 1
        return (0..<count).map { octave in
            Int((Double(size) / pow(scale, Double(count - 1 - octave))).rounded())
        }
    }

    /// Images each step runs through the network per visualized image: MaCo's crops, else 1.
    public var stepCopies: Int { parameterization == .maco ? maco.crops : 1 }

    /// The network input of one step: every image (MaCo: every crop of every image, at the crop size).
    public var stepInputShape: TensorShape {
        let side = parameterization == .maco ? maco.cropSize ?? size : size
        return [channels.count * stepCopies, imageChannels, side, side]
    }

    /// These settings at another image size (one octave's).
    func resized(to size: Int) -> Self {
        var copy = self
        copy.size = size
        return copy
    }
}

/// MaCo's schedule, after xplique's `maco`: every step takes `crops` square crops of each image, centred at
/// 0.5 + N(0, 0.15) of the image in each axis, of side N(b, 0.05) of the image clipped to [0.05, 1], where b falls
/// linearly from `cropScale.upperBound` to `cropScale.lowerBound` over the steps; each crop is resized to
/// `cropSize` px (corner-aligned, mid-grey outside the image) and gets N(0, σ) + U(−σ/2, σ/2) noise, σ = `noise`
/// in [0, 1] image units (xplique's 0.08 on its [−1, 1] range). The objective is the mean over an image's crops.
public struct MacoSettings: Sendable {
    /// Crops per image and step (xplique: 32; each is one image of the network's batch).
    public var crops = 4
    /// The crop side's schedule as a fraction of the image side, largest first (xplique: 0.5 → 0.05).
    public var cropScale: ClosedRange<Float> = 0.05...0.5
    /// Pixels of each crop as the network sees it; nil: the image size.
    public var cropSize: Int?
    public var noise: Float = 0.04
    /// 3×H×F natural-image magnitudes (`MacoSpectrum`); nil: the embedded table.
    public var magnitude: HostTensor?

    public init() {}
}

