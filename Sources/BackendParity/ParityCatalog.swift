import TensorOps

/// The matrix of shapes `convlens verify` and the parity tests run: odd and non-square sizes, stride 2,
/// dilation 2, groups, depthwise, batch 3, 1×1 and 7×7 kernels, asymmetric padding, ceil mode, both average-pool
/// divisors, broadcasting. Each workload runs every pass it has; each case gets its own seed.
public enum ParityCatalog {
    public static let workloads: [ParityWorkload] = convolutions + poolings + denseOps + layoutOps + visualizationOps + camOps

    /// Every case, in a fixed order with fixed seeds.
    public static let cases: [ParityCase] = {
        var cases: [ParityCase] = []
        for workload in workloads {
            for direction in workload.directions {
                cases.append(ParityCase(workload, direction, seed: 0xC0_4E15 &+ UInt64(cases.count)))
            }
        }
        return cases
    }()

    /// Every op name, in catalog order, for `--op` and its error message.
    public static var ops: [String] {
        var seen: Set<String> = []
        return workloads.map(\.op).filter { seen.insert($0).inserted }
    }

    static let convolutions: [ParityWorkload] = [
        .conv2d(input: [2, 3, 9, 11], weight: [8, 3, 3, 3], bias: true,
                Conv2DParameters(padding: Padding2D(1))),
        .conv2d(input: [1, 4, 13, 10], weight: [6, 4, 3, 3], bias: true,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(1))),
        .conv2d(input: [2, 5, 12, 12], weight: [4, 5, 3, 3], bias: false,
                Conv2DParameters(padding: Padding2D(2), dilation: Size2D(2))),
        .conv2d(input: [1, 8, 10, 9], weight: [6, 4, 3, 3], bias: true,
                Conv2DParameters(padding: Padding2D(1), groups: 2)),
        .conv2d(input: [2, 6, 11, 11], weight: [6, 1, 3, 3], bias: true,
                Conv2DParameters(padding: Padding2D(1), groups: 6)),
        .conv2d(input: [1, 4, 9, 8], weight: [8, 1, 3, 3], bias: false,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(1), groups: 4)),
        .conv2d(input: [3, 16, 7, 7], weight: [12, 16, 1, 1], bias: true, Conv2DParameters()),
        .conv2d(input: [1, 3, 23, 21], weight: [8, 3, 7, 7], bias: false,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(3))),
        .conv2d(input: [2, 3, 10, 9], weight: [5, 3, 3, 2], bias: true,
                Conv2DParameters(stride: Size2D(2, 1), padding: Padding2D(top: 1, left: 0, bottom: 2, right: 1))),
        .conv2d(input: [1, 2, 6, 13], weight: [3, 2, 1, 5], bias: false,
                Conv2DParameters(padding: Padding2D(vertical: 0, horizontal: 2))),
        .conv2d(input: [1, 3, 17, 15], weight: [4, 3, 5, 5], bias: true,
                Conv2DParameters(stride: Size2D(3), padding: Padding2D(2), dilation: Size2D(2, 1))),
        // Matrix-product path: several full register tiles and a tail in both directions, groups, pointwise.
        .conv2d(input: [2, 16, 12, 12], weight: [26, 16, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        .conv2d(input: [1, 8, 10, 9], weight: [8, 4, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1), groups: 2)),
        .conv2d(input: [2, 32, 8, 8], weight: [16, 32, 1, 1], bias: false, Conv2DParameters()),
        // Pointwise products batched over 5 images (not a multiple of the batch work-group), per group.
        .conv2d(input: [5, 8, 6, 7], weight: [10, 4, 1, 1], bias: true, Conv2DParameters(groups: 2)),
        // Output rows of whole matrix-product column tiles (32 and 64 wide), with padding, with dilation, and a 5×5
        // window over two images.
        .conv2d(input: [1, 3, 5, 32], weight: [4, 3, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        .conv2d(input: [1, 2, 9, 36], weight: [5, 2, 3, 3], bias: false, Conv2DParameters(dilation: Size2D(2))),
        .conv2d(input: [2, 3, 6, 64], weight: [6, 3, 5, 5], bias: false, Conv2DParameters(padding: Padding2D(2))),
        // Implicit GEMM (conv_gemm.cl, on a CPU): output rows of 30–32 columns in one 32-column tile. Stride 2
        // (its padded copy split into even and odd columns) with odd and even left padding, a 7×7 stride-2 stem,
        // groups with dilation, and more output channels than one register tile, whose input gradient runs
        // through the same kernel.
        .conv2d(input: [1, 6, 20, 64], weight: [10, 6, 3, 3], bias: true,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(1))),
        .conv2d(input: [1, 3, 30, 62], weight: [8, 3, 7, 7], bias: false,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(3))),
        .conv2d(input: [1, 4, 9, 62], weight: [6, 4, 3, 3], bias: true,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(vertical: 0, horizontal: 2))),
        .conv2d(input: [1, 8, 12, 30], weight: [12, 4, 3, 3], bias: false,
                Conv2DParameters(padding: Padding2D(2), dilation: Size2D(2), groups: 2)),
        .conv2d(input: [2, 5, 14, 30], weight: [14, 5, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        // Winograd F(2×2, 3×3) forward and backward-input: 128 channels and 256 tiles or more (where it is faster),
        // odd sizes (partial tiles), asymmetric padding (backward padding 0 and 2), tile rows of 8-tile runs.
        .conv2d(input: [2, 128, 23, 23], weight: [128, 128, 3, 3], bias: true,
                Conv2DParameters(padding: Padding2D(1))),
        .conv2d(input: [1, 128, 36, 30], weight: [128, 128, 3, 3], bias: false,
                Conv2DParameters(padding: Padding2D(top: 2, left: 0, bottom: 1, right: 2))),
        // A weight gradient summing more positions (66 × 66) than one matmul launch takes (4096 on a CPU).
        .conv2d(input: [1, 4, 66, 66], weight: [8, 4, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1))),
        // Depthwise rows long enough for the float8 runs: two output channels per input channel, and dilation 2.
        .conv2d(input: [1, 3, 6, 29], weight: [6, 1, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1), groups: 3)),
        .conv2d(input: [2, 2, 7, 26], weight: [2, 1, 3, 3], bias: false,
                Conv2DParameters(padding: Padding2D(2), dilation: Size2D(2), groups: 2)),
        // EfficientNet's 5×5 stride-2 depthwise with TF "same" padding (1 before, 2 after), in the row-buffer kernels.
        .conv2d(input: [2, 3, 11, 12], weight: [3, 1, 5, 5], bias: true,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(top: 1, left: 1, bottom: 2, right: 2), groups: 3)),
        // Rows wider than the row-buffer kernels take (the general depthwise kernels).
        .conv2d(input: [1, 2, 3, 600], weight: [2, 1, 3, 3], bias: true, Conv2DParameters(padding: Padding2D(1), groups: 2)),
        .conv2d(input: [1, 2, 5, 700], weight: [2, 1, 3, 3], bias: false,
                Conv2DParameters(stride: Size2D(2), padding: Padding2D(1), groups: 2)),
    ]

    static let poolings: [ParityWorkload] = [
        .pool2d(.max, input: [2, 3, 8, 10], Pool2DParameters(kernel: Size2D(2))),
        // Tiled windows (kernel = stride) over sizes they do not divide: the last rows and columns belong to none.
        .pool2d(.max, input: [1, 2, 7, 9], Pool2DParameters(kernel: Size2D(2))),
        .pool2d(.max, input: [2, 2, 11, 8], Pool2DParameters(kernel: Size2D(3))),
        .pool2d(.max, input: [1, 4, 11, 8],
                Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        .pool2d(.max, input: [2, 2, 14, 12], Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), ceilMode: true)),
        .pool2d(.max, input: [1, 3, 9, 9],
                Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1), dilation: Size2D(2))),
        .pool2d(.max, input: [1, 2, 7, 9],
                Pool2DParameters(kernel: Size2D(2), padding: Padding2D(top: 0, left: 0, bottom: 1, right: 1))),
        .pool2d(.average, input: [2, 3, 8, 10], Pool2DParameters(kernel: Size2D(2))),
        .pool2d(.average, input: [1, 4, 9, 7],
                Pool2DParameters(kernel: Size2D(3), stride: Size2D(1), padding: Padding2D(1))),
        .pool2d(.average, input: [1, 3, 9, 8],
                Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true,
                                 countIncludePad: false)),
        .pool2d(.average, input: [2, 2, 9, 8],
                Pool2DParameters(kernel: Size2D(3), stride: Size2D(2), padding: Padding2D(1), ceilMode: true)),
        .globalAvgPool2d(input: [2, 5, 7, 9]),
    ]

    static let denseOps: [ParityWorkload] = [
        .activation(.relu, shape: [2, 3, 7, 9]),
        .activation(.leakyReLU(alpha: 0.1), shape: [2, 3, 7, 9]),
        .activation(.clip(min: 0, max: 6), shape: [2, 3, 7, 9]),
        .activation(.sigmoid, shape: [2, 3, 7, 9]),
        .linear(input: [3, 17], outFeatures: 5, bias: true),
        .linear(input: [1, 64], outFeatures: 10, bias: false),
        .binary(.add, a: [2, 3, 5, 7], b: [2, 3, 5, 7]),
        .binary(.add, a: [2, 3, 5, 7], b: [1, 3, 1, 1]),
        .binary(.add, a: [3, 10], b: [10]),
        .binary(.mul, a: [2, 3, 5, 7], b: [2, 3, 5, 7]),
        .binary(.mul, a: [2, 1, 5, 7], b: [2, 3, 5, 1]),
        .channelAffine(shape: [2, 5, 6, 7]),
        .softmax(shape: [3, 10]),
        .softmax(shape: [2, 3, 17]),
    ]

    static let layoutOps: [ParityWorkload] = [
        .concat(inputs: [[2, 2, 5, 6], [2, 3, 5, 6], [2, 1, 5, 6]]),
        .pad2d(input: [2, 3, 5, 6], Padding2D(top: 1, left: 0, bottom: 2, right: 3), value: 0),
        .pad2d(input: [1, 2, 4, 4], Padding2D(1), value: -1.5),
        .transpose2d(input: [3, 17]),
        // Whole 16 × 16 blocks (the kernel's vector path) and partial ones.
        .transpose2d(input: [40, 35]),
    ]

    static let visualizationOps: [ParityWorkload] = [
        .irfft2(image: [2, 3, 8, 10]),
        .irfft2(image: [1, 2, 9, 7]),
        // Several tiles of the products; a single row and a single column (F = 1).
        .irfft2(image: [2, 3, 40, 34]),
        .irfft2(image: [1, 1, 1, 6]),
        .irfft2(image: [3, 1, 5, 1]),
        .affineResample(shape: [3, 2, 11, 13], output: [3, 2, 11, 13], fill: 0.5, scales: 0.9...1.1, degrees: 10),
        // Strong zooms both ways and large rotations, where the backward's search box is widest.
        .affineResample(shape: [4, 3, 17, 15], output: [4, 3, 17, 15], fill: 0.5, scales: 0.3...2.5, degrees: 45),
        // MaCo's crops: 3 per image, magnified to another size.
        .affineResample(shape: [2, 3, 16, 18], output: [6, 3, 9, 11], fill: 0, scales: 1.2...3, degrees: 0),
        .imagePenalty(shape: [2, 3, 7, 8], l2: 0.5, tv: 0.25),
        .polarSpectrum(phase: [2, 3, 9, 6]),
        // One image of more values than the work-group, and several small ones.
        .standardize(shape: [1, 3, 31, 29], epsilon: 1e-5),
        .standardize(shape: [4, 2, 5, 3], epsilon: 1e-5),
        .accumulateAbsolute(shape: [2, 3, 5, 7]),
        .adam(count: 257, AdamParameters(learningRate: 0.05)),
        .sgd(count: 257, learningRate: 0.1),
        .diversity(activation: [3, 5, 4, 6], weight: 0.7),
        .diversity(activation: [9, 2, 3, 3], weight: 1),
    ]

    static let camOps: [ParityWorkload] =
        ReLUGradient.allCases.map { .reluGradient($0, shape: [2, 3, 5, 7]) }
        + [CAMRule.gradCAM, .gradCAMPlusPlus, .xGradCAM].map { .camChannelWeights($0, activation: [2, 5, 6, 7]) }
        + [.hiResCAM, .layerCAM].map { .camPixelwiseSum($0, activation: [2, 5, 6, 7]) }
        + [
            .camWeightedSum(activation: [3, 9, 7, 5]),
            // Eigen-CAM's Gram matrix over channels (positions > channels), then over positions.
            .camPrincipalProjection(activation: [2, 5, 6, 7]),
            .camPrincipalProjection(activation: [2, 40, 3, 4]),
            .minMaxNormalize(shape: [3, 1, 7, 9], epsilon: 1e-7),
            .minMaxNormalize(shape: [4, 2, 3, 5], epsilon: 1e-8),
            .resizeBilinear(input: [2, 1, 7, 7], output: [2, 1, 224, 224], alignCorners: false),
            .resizeBilinear(input: [1, 3, 9, 8], output: [1, 3, 5, 13], alignCorners: false),
            .resizeBilinear(input: [2, 4, 7, 6], output: [2, 4, 28, 19], alignCorners: true),
            .overlay(map: [2, 1, 6, 9], alpha: 0.5),
            // ROAD's imputation: one image under several masks, and one mask per image; the 40×36 plane's
            // masks remove a 24×20 block besides scattered pixels, a hole that takes the solver many iterations.
            .linearImputation(image: [1, 3, 12, 10], variants: 3),
            .linearImputation(image: [2, 2, 9, 7], variants: 2),
            .linearImputation(image: [1, 1, 40, 36], variants: 2),
        ]
}
