/// The work one op does, for profiling: achieved GFLOP/s and GB/s divide these by measured kernel time.
///
/// FLOPs count a multiply-add as 2 and a comparison, division or addition as 1. Bytes are the compulsory
/// float32 traffic: every input read once and every output written once (caches and re-reads not counted), so
/// bytes / time is a lower bound on the bandwidth the kernel achieved.
public struct OpCost: Hashable, Sendable {
    public var flops: Int
    public var bytes: Int

    public init(flops: Int, bytes: Int) {
        self.flops = flops
        self.bytes = bytes
    }

    /// `elements` float32 (or int32) values moved once.
    public static func traffic(_ elements: Int...) -> Int { elements.reduce(0, +) * 4 }
}

extension Conv2DGeometry {
    private var multiplyAdds: Int { output.count * inChannelsPerGroup * kernelHeight * kernelWidth }

    public func forwardCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * multiplyAdds + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(input.count, weight.count, hasBias ? outChannels : 0, output.count))
    }

    public var backwardInputCost: OpCost {
        OpCost(flops: 2 * multiplyAdds, bytes: OpCost.traffic(output.count, weight.count, input.count))
    }

    public func backwardWeightCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * multiplyAdds + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(output.count, input.count, weight.count, hasBias ? outChannels : 0))
    }
}

extension Pool2DGeometry {
    private var windowTaps: Int { output.count * parameters.kernel.height * parameters.kernel.width }

    /// Max: one comparison per tap, plus the argmax written. Average: one addition per tap and one division.
    public var forwardCost: OpCost {
        switch kind {
        case .max: OpCost(flops: windowTaps, bytes: OpCost.traffic(input.count, output.count, output.count))
        case .average: OpCost(flops: windowTaps + output.count, bytes: OpCost.traffic(input.count, output.count))
        }
    }

    /// Max: the argmax routes each gradient (one addition each). Average: a division and addition per tap.
    public var backwardCost: OpCost {
        switch kind {
        case .max: OpCost(flops: output.count, bytes: OpCost.traffic(output.count, output.count, input.count))
        case .average: OpCost(flops: 2 * windowTaps, bytes: OpCost.traffic(output.count, input.count))
        }
    }
}

extension LinearGeometry {
    public func forwardCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * batch * inFeatures * outFeatures + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(input.count, weight.count, hasBias ? outFeatures : 0, output.count))
    }

    public var backwardInputCost: OpCost {
        OpCost(flops: 2 * batch * inFeatures * outFeatures, bytes: OpCost.traffic(output.count, weight.count, input.count))
    }

    public func backwardWeightCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * batch * inFeatures * outFeatures + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(output.count, input.count, weight.count, hasBias ? outFeatures : 0))
    }
}

extension OpCost {
    /// Global average pooling of `input`: one addition per element and a division per plane; backward one
    /// division per element.
    public static func globalAvgPool2d(input: TensorShape, backward: Bool) -> OpCost {
        let planes = input[0] * input[1]
        return OpCost(flops: input.count + (backward ? 0 : planes), bytes: OpCost.traffic(input.count, planes))
    }

    /// An activation over `count` elements: one operation each; backward also reads the forward input.
    public static func activation(count: Int, backward: Bool) -> OpCost {
        OpCost(flops: count, bytes: OpCost.traffic(count, count, backward ? count : 0))
    }

    /// A broadcast binary op: one operation per output element; backward reads the gradient (and, for Mul, the
    /// other operand) once per operand gradient and writes each operand gradient.
    public static func binary(_ geometry: BroadcastGeometry, backward: Bool) -> OpCost {
        let out = geometry.output.count
        guard backward else {
            return OpCost(flops: out, bytes: OpCost.traffic(geometry.a.count, geometry.b.count, out))
        }
        return OpCost(flops: 2 * out, bytes: OpCost.traffic(out, out, geometry.a.count, geometry.b.count))
    }

    /// Per-channel scale and shift: a multiply-add per element.
    public static func channelAffine(_ shape: TensorShape) -> OpCost {
        OpCost(flops: 2 * shape.count, bytes: OpCost.traffic(shape.count, shape.count, 2 * shape[1]))
    }

    /// Softmax over rows: max, exponent, sum and division per element (about 4 operations); backward a dot
    /// product and a multiply-add per element.
    public static func softmax(_ shape: TensorShape, backward: Bool) -> OpCost {
        OpCost(flops: 4 * shape.count, bytes: OpCost.traffic(shape.count, shape.count, backward ? shape.count : 0))
    }

    /// Padding and transposition move data and compute nothing.
    public static func copy(input: Int, output: Int) -> OpCost {
        OpCost(flops: 0, bytes: OpCost.traffic(input, output))
    }

    /// Channel concatenation (either direction) moves every element once each way, computing nothing.
    public static func concat(_ geometry: ConcatGeometry) -> OpCost {
        OpCost(flops: 0, bytes: OpCost.traffic(geometry.output.count, geometry.output.count))
    }

    /// Both separable stages of the inverse real DFT: a complex multiply-add (8 operations) per term.
    public static func irfft2(_ g: SpectrumGeometry) -> OpCost {
        let terms = g.planes * g.height * g.columns * (g.height + g.width)
        return OpCost(flops: 8 * terms, bytes: OpCost.traffic(g.spectrum.count, g.spectrum.count, g.image.count))
    }

    /// Bilinear resampling: four multiply-adds per output element; backward visits up to (2·reach + 1)² candidates
    /// of each resampling per input element.
    public static func affineResample(_ g: AffineResampleGeometry, reach: Int? = nil) -> OpCost {
        let flops = reach.map { 8 * (2 * $0 + 1) * (2 * $0 + 1) * g.copies * g.input.count } ?? 8 * g.output.count
        return OpCost(flops: flops, bytes: OpCost.traffic(g.input.count, g.output.count))
    }

    /// A cosine and a sine (about 20 operations each) and two multiplications per phase; the backward the same.
    public static func polarSpectrum(_ g: PolarSpectrumGeometry) -> OpCost {
        OpCost(flops: 42 * g.phase.count, bytes: OpCost.traffic(2 * g.phase.count, g.spectrum.count))
    }

    /// Two passes for the statistics and one for the result (about 3 operations per element each way); the
    /// backward adds one more pass for the two gradient sums.
    public static func standardize(_ g: StandardizeGeometry, backward: Bool) -> OpCost {
        let count = g.shape.count
        return backward ? OpCost(flops: 10 * count, bytes: OpCost.traffic(3 * count, count))
            : OpCost(flops: 6 * count, bytes: OpCost.traffic(2 * count, count))
    }

    /// Image regularizers (about 12 operations per element) and optimizer steps (about 10 for Adam, 2 for SGD).
    public static func elementwiseUpdate(count: Int, operations: Int, tensors: Int) -> OpCost {
        OpCost(flops: operations * count, bytes: OpCost.traffic(tensors * count))
    }
}

extension CAMGeometry {
    /// Channel weights: Grad-CAM sums the gradient (1 operation per element); XGrad-CAM and Grad-CAM++ also sum
    /// the activation and spend about 3 (XGrad-CAM) or 8 (Grad-CAM++) operations per element on the weight.
    public func channelWeightsCost(_ rule: CAMRule) -> OpCost {
        let perElement = switch rule {
        case .gradCAM: 1
        case .xGradCAM: 4
        case .gradCAMPlusPlus: 9
        // Pixel-wise rules have no channel weights (camChannelWeights refuses them).
        case .hiResCAM, .layerCAM: 0
        }
        return OpCost(flops: perElement * activation.count,
                      bytes: OpCost.traffic(rule == .gradCAM ? 0 : activation.count, activation.count, weightShape.count))
    }

    /// The weighted sum over channels: a multiply-add per activation element, and the ReLU per map element.
    public var weightedSumCost: OpCost {
        OpCost(flops: 2 * activation.count + mapShape.count,
               bytes: OpCost.traffic(activation.count, weightShape.count, mapShape.count))
    }

    /// Eigen-CAM: the Gram matrix of the smaller side (S = min(positions, channels)) and the projection. The power
    /// iterations (S² multiply-adds each) are not counted: how many run depends on the data, so the figure is a
    /// lower bound, like the bytes.
    public var principalProjectionCost: OpCost {
        let side = min(positions, channels)
        return OpCost(flops: 2 * side * side * max(positions, channels) * images + 2 * activation.count,
                      bytes: OpCost.traffic(activation.count, images * side * side, mapShape.count))
    }

    /// The position-weighted sum (HiRes-CAM, Layer-CAM): a multiply-add (and a ReLU) per element.
    public var pixelwiseSumCost: OpCost {
        OpCost(flops: 3 * activation.count + mapShape.count,
               bytes: OpCost.traffic(activation.count, activation.count, mapShape.count))
    }
}

extension ResizeGeometry {
    /// Three linear interpolations (two operations each) per output element.
    public var cost: OpCost { OpCost(flops: 6 * output.count, bytes: OpCost.traffic(input.count, output.count)) }
}

extension OverlayGeometry {
    /// A table look-up per pixel and a blend (three operations) per colour channel.
    public var cost: OpCost {
        OpCost(flops: 10 * images * positions, bytes: OpCost.traffic(images * positions, 6 * images * positions, 768))
    }
}

extension OpCost {
    /// Min-max normalization: a comparison pair per element to find the range, then a subtraction and division.
    public static func minMaxNormalize(count: Int) -> OpCost {
        OpCost(flops: 4 * count, bytes: OpCost.traffic(count, count, count))
    }
}

extension DiversityGeometry {
    /// The channel Gram matrices: a multiply-add per activation element and channel (2·N·C²·HW).
    public var gramCost: OpCost {
        OpCost(flops: 2 * images * channels * channels * positions,
               bytes: OpCost.traffic(activation.count, images * channels * channels))
    }

    /// The gradient: per activation element, C terms of about 8 operations (normalizing, the projection, a
    /// multiply-add) and 3 to scale and subtract it; reads the activation, its gradient and the Gram matrices.
    public var gradientCost: OpCost {
        OpCost(flops: (8 * channels + 3) * activation.count,
               bytes: OpCost.traffic(3 * activation.count, (images + 1) * channels * channels, 2 * images))
    }
}
