/// One pass of a convolution: what a `ConvAlgorithm` computes.
public enum ConvPass: String, Sendable, CaseIterable, Codable {
    case forward
    case backwardInput = "backward_input"
    case backwardWeight = "backward_weight"
}

/// The ways the OpenCL backend can compute a convolution pass. Which of them can run a geometry is a property of
/// the shapes alone (`supports`), so `convlens verify` can check every kernel on any device; which one does run is
/// the planner's choice (OpenCLBackend's `ConvPlanner`: device defaults, `convlens tune`'s measurements, or
/// `CONVLENS_CONV_ALGORITHM`).
public enum ConvAlgorithm: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// conv2d.cl: one work-item per output (forward), input (backward input) or weight tap (backward weight), a
    /// block of channels each. Any geometry.
    case direct
    /// depthwise.cl's general kernels: one input channel per group. The weight gradient is one long loop per
    /// output channel.
    case depthwise
    /// depthwise.cl's row-buffer kernels: a padded input row and an output row in private memory
    /// (`depthwiseRowsFit`). Forward and input gradient.
    case depthwiseRows = "depthwise_rows"
    /// winograd.cl, F(2×2, 3×3): 3×3 windows, stride 1, no dilation, one group; the input gradient also needs a
    /// transposable window. Forward and input gradient.
    case winograd
    /// conv_gemm.cl: a register-tiled product that reads its operand from a padded copy of the input, no column
    /// matrix. Row stride 1 or 2 forward; the input gradient of a transposable window.
    case implicitGemm = "implicit_gemm"
    /// im2col.cl and gemm.cl: per image and group a column matrix, then one product (a pointwise convolution reads
    /// its input as the matrix). The input gradient of a transposable window runs as a convolution of dy with the
    /// flipped weights; the weight gradient as col · dyᵀ summed over images.
    case im2colGemm = "im2col_gemm"
    /// The input gradient as gemm.cl's Wᵀ · dy into a column matrix, folded back by col2im (any geometry; a
    /// pointwise convolution writes dx directly).
    case gemmCol2im = "gemm_col2im"
    /// The GPU-shaped product (gemm_local.cl: work-group tiles staged through local memory, register blocks, the
    /// tile sizes as build defines) behind im2col: forward and weight gradient as `im2colGemm`, the input gradient
    /// as `gemmCol2im`. Any geometry.
    case gemmLocal = "gemm_local"
    /// conv_local.cl: the same work-group tiles, the product's operand gathered from the input itself as the tiles
    /// are filled (no im2col matrix, no padded copy). Forward and input gradient, any geometry.
    case implicitGemmLocal = "implicit_gemm_local"
    /// conv_local.cl's weight gradient: dy and x read in place, the sum over images and positions split into
    /// chunks that work-groups take in parallel, their partial sums added in a second pass in a fixed order. Any
    /// geometry.
    case splitK = "split_k"
    /// winograd.cl, F(4×4, 3×3): 6×6 input patches, 36 products, 4× fewer multiplications than direct. The shapes
    /// of `winograd`.
    case winograd4x4 = "winograd_4x4"

    public var description: String { rawValue }

    /// Whether this algorithm computes `pass` of `g` (correctly, whatever its speed).
    public func supports(_ pass: ConvPass, _ g: Conv2DGeometry) -> Bool {
        switch (self, pass) {
        case (.direct, _): true
        case (.depthwise, _): g.isDepthwise
        case (.depthwiseRows, .forward), (.depthwiseRows, .backwardInput): g.isDepthwise && g.depthwiseRowsFit
        case (.winograd, .forward), (.winograd4x4, .forward): g.suitsWinograd
        case (.winograd, .backwardInput), (.winograd4x4, .backwardInput): g.suitsWinograd && g.hasTransposableWindow
        case (.implicitGemm, .forward): g.parameters.stride.width <= 2
        case (.implicitGemm, .backwardInput): g.hasTransposableWindow
        case (.im2colGemm, .forward), (.im2colGemm, .backwardWeight): true
        case (.im2colGemm, .backwardInput): g.hasTransposableWindow
        case (.gemmCol2im, .backwardInput): true
        case (.gemmLocal, _), (.implicitGemmLocal, .forward), (.implicitGemmLocal, .backwardInput),
             (.splitK, .backwardWeight):
            true
        default: false
        }
    }

    /// Every algorithm that computes `pass` of `g`, in declaration order.
    public static func supporting(_ pass: ConvPass, _ g: Conv2DGeometry) -> [ConvAlgorithm] {
        allCases.filter { $0.supports(pass, g) }
    }
}

extension Conv2DGeometry {
    /// One input channel per group (MobileNet's depthwise layers, any channel multiplier).
    public var isDepthwise: Bool { inChannelsPerGroup == 1 && groups > 1 }

    /// A 1×1 window with stride 1 and no padding: the input planes already are the im2col matrix.
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && parameters.stride == Size2D(1) && parameters.padding == Padding2D(0)
    }

    /// Stride 1, no dilation, and no padding beyond the window on any side: the input gradient is then a plain
    /// convolution of dy (padding K−1−p ≥ 0).
    public var hasTransposableWindow: Bool {
        let p = parameters
        return p.stride == Size2D(1) && p.dilation == Size2D(1)
            && [p.padding.top, p.padding.bottom].allSatisfy { $0 <= kernelHeight - 1 }
            && [p.padding.left, p.padding.right].allSatisfy { $0 <= kernelWidth - 1 }
    }

    /// The shapes F(2×2, 3×3) and F(4×4, 3×3) compute: a 3×3 window, stride 1, no dilation, one group. (The input gradient also
    /// needs padding of at most 2 on every side, `hasTransposableWindow`.)
    public var suitsWinograd: Bool {
        kernelHeight == 3 && kernelWidth == 3 && parameters.stride == Size2D(1) && parameters.dilation == Size2D(1)
            && groups == 1
    }

    /// The depthwise row-buffer kernels' private rows (an output and a padded input row, or an input and a spread
    /// dy row) stay within 1,024 floats: beyond that a CPU thread's stack frame grows past its caches, and a GPU
    /// would spill.
    public var depthwiseRowsFit: Bool {
        let (p, reach) = (parameters, (kernelWidth - 1) * parameters.dilation.width)
        let forward = outWidth + (outWidth - 1) * p.stride.width + reach + 1
        let backward = inWidth + inWidth + p.padding.left + reach
        return max(forward, backward) <= 1024
    }
}
