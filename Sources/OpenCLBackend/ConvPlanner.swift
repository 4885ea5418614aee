import TensorOps

/// Chooses the algorithm of every convolution pass, from the shapes, the device's tuning and what `convlens tune`
/// measured: a pure function of those, so a choice can be tested without a device and printed before it runs.
///
/// In order: a forced algorithm (`CONVLENS_CONV_ALGORITHM`, or `convlens verify` checking each one) where it
/// supports the pass; the algorithm `convlens tune` measured fastest for this exact pass and geometry; the device
/// class's default rules.
public struct ConvPlanner: Sendable {
    public let tuning: DeviceTuning
    /// Measured winners, by `TunedConvolutions.key`.
    public let measured: [String: ConvAlgorithm]
    public var forced: ConvAlgorithm?

    public init(tuning: DeviceTuning, measured: [String: ConvAlgorithm] = [:], forced: ConvAlgorithm? = nil) {
        self.tuning = tuning
        self.measured = measured
        self.forced = forced
    }

    public func algorithm(_ pass: ConvPass, _ g: Conv2DGeometry) -> ConvAlgorithm {
        if let forced, forced.supports(pass, g) { return forced }
        if let winner = measured[TunedConvolutions.key(pass, g)], winner.supports(pass, g) { return winner }
        return defaultAlgorithm(pass, g)
    }

    /// Whether the general depthwise kernels would test bounds tap by tap on most of a row: at a stride other than 1,
    /// or where the columns whose every tap reads inside the row (their runs of 8 in vectors, as in
    /// conv2d_depthwise_forward) are fewer than half the row, or fewer than 8.
    static func generalDepthwiseRunsAreShort(_ g: Conv2DGeometry) -> Bool {
        let p = g.parameters
        guard p.stride.width == 1 else { return true }
        let first = min(max(p.padding.left, 0), g.outWidth)
        let end = min(max(g.inWidth - ((g.kernelWidth - 1) * p.dilation.width - p.padding.left), first), g.outWidth)
        let inside = end - first
        return inside < 8 || 2 * inside < g.outWidth
    }

    /// The device class's rules (`DeviceTuning.defaults` holds the measurements behind each threshold).
    public func defaultAlgorithm(_ pass: ConvPass, _ g: Conv2DGeometry) -> ConvAlgorithm {
        if g.isDepthwise {
            let rows = switch tuning.depthwiseRows {
            case .always: true
            case .whereGeneralRunsAreShort: Self.generalDepthwiseRunsAreShort(g)
            }
            return pass != .backwardWeight && rows && g.depthwiseRowsFit ? .depthwiseRows : .depthwise
        }
        guard g.outChannelsPerGroup >= tuning.matmulMinimumChannels else { return .direct }
        if tuning.convolutionsOnLocalTiles { return pass == .backwardWeight ? .splitK : .implicitGemmLocal }
        switch pass {
        case .forward:
            if g.suitsWinograd && winogradPays(.forward(g)) { return .winograd }
            if ConvAlgorithm.implicitGemm.supports(.forward, g) && implicitGemmPays(.forward(g)) { return .implicitGemm }
            return .im2colGemm
        case .backwardInput:
            guard g.hasTransposableWindow && !g.isPointwise else { return .gemmCol2im }
            if g.suitsWinograd && winogradPays(.backwardInput(g)) { return .winograd }
            return implicitGemmPays(.backwardInput(g)) ? .implicitGemm : .im2colGemm
        case .backwardWeight:
            return .im2colGemm
        }
    }

    /// 128 channels or more on both sides and 256 tiles or more (on the tuned device class).
    func winogradPays(_ problem: WinogradConvolution) -> Bool {
        problem.sourceChannels >= tuning.winogradMinimumChannels && problem.targetChannels >= tuning.winogradMinimumChannels
            && problem.batch * problem.tilesPerImage >= tuning.winogradMinimumTiles
    }

    /// Where the device class runs implicit GEMM by default: windows of more than one tap (a 1×1 window leaves one
    /// tap per pass of the kernel's inner loop: ResNet's 1×1 stride-2 projection took 2.0 ms against 1.9, and at
    /// stride 1 needs no im2col at all), and rows that whole column tiles cover with little left over.
    func implicitGemmPays(_ problem: ImplicitConvolution) -> Bool {
        guard let limit = tuning.implicitGemmMaximumColumnPadding, problem.kernelHeight * problem.kernelWidth > 1
        else { return false }
        return problem.columnPadding(implicitGemmTiling(problem)) <= limit
    }

    /// The register tile conv2d_implicit_gemm runs `problem` with: the one that pads its rows least.
    func implicitGemmTiling(_ problem: ImplicitConvolution) -> MatmulTiling {
        MatmulTiling.leastPadded(tuning.matmulTilings, work: problem.paddedWork)
    }
}
