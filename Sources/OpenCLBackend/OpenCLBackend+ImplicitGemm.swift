import OpenCLRuntime
import TensorOps

/// One convolution run by conv2d_implicit_gemm (Kernels/conv_gemm.cl): per image and group, `planes` through a
/// window, with the product's operand read straight from the (padded) source instead of an im2col matrix. The
/// planes' sizes read as its own (`problem.sourceChannels`).
@dynamicMemberLookup
struct ImplicitConvolution {
    let planes: ConvolutionPlanes
    let groups: Int
    let kernelHeight: Int
    let kernelWidth: Int
    let stride: Size2D
    let dilation: Size2D
    let padTop: Int
    let padLeft: Int

    subscript<Value>(dynamicMember size: KeyPath<ConvolutionPlanes, Value>) -> Value { planes[keyPath: size] }

    /// The forward pass of `g`: x to y with g's weights.
    static func forward(_ g: Conv2DGeometry) -> ImplicitConvolution {
        let p = g.parameters
        return ImplicitConvolution(
            planes: .forward(g), groups: p.groups, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
            stride: p.stride, dilation: p.dilation, padTop: p.padding.top, padLeft: p.padding.left)
    }

    /// The input gradient of `g` (stride 1, `hasTransposableWindow`): dy to dx with the flipped, transposed
    /// weights and padding K − 1 − p.
    static func backwardInput(_ g: Conv2DGeometry) -> ImplicitConvolution {
        let p = g.parameters
        return ImplicitConvolution(
            planes: .backwardInput(g), groups: p.groups, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
            stride: Size2D(1), dilation: Size2D(1), padTop: g.kernelHeight - 1 - p.padding.top,
            padLeft: g.kernelWidth - 1 - p.padding.left)
    }

    var targetChannelsPerGroup: Int { planes.targetChannels / groups }

    /// The weights: targetChannels × sourceChannels/groups × KH × KW.
    var weightCount: Int { planes.targetChannels * planes.sourceChannels / groups * kernelHeight * kernelWidth }

    /// The padded source planes conv2d_pad_input writes: every row and column the window reads (and the whole
    /// source, so the copy never truncates a row).
    var paddedHeight: Int {
        max(padTop + planes.sourceHeight,
            (planes.targetHeight - 1) * stride.height + (kernelHeight - 1) * dilation.height + 1)
    }
    /// Stride 2 stores even columns, then odd ones, in halves of equal width.
    var paddedWidth: Int {
        let width = max(padLeft + planes.sourceWidth,
                        (planes.targetWidth - 1) * stride.width + (kernelWidth - 1) * dilation.width + 1)
        return stride.width == 2 ? (width + 1) / 2 * 2 : width
    }

    /// The padded source and the run the last tile of a row reads past it (see conv2d_implicit_gemm).
    func paddedSourceFloats(_ tiling: MatmulTiling) -> Int {
        planes.batch * planes.sourceChannels * paddedHeight * paddedWidth + tiling.columns * stride.width
            + (kernelWidth - 1) * dilation.width
    }

    /// Multiply-adds `tiling` computes, tiles padded out: whole row tiles, and whole column tiles per output row.
    func paddedWork(_ tiling: MatmulTiling) -> Int {
        let rows = (targetChannelsPerGroup + tiling.rows - 1) / tiling.rows * tiling.rows
        let columns = (planes.targetWidth + tiling.columns - 1) / tiling.columns * tiling.columns
        return rows * columns * planes.targetHeight
    }

    /// The columns `tiling` computes against those of im2col and one product over the same results, which pad only
    /// the whole output plane to a column tile.
    func columnPadding(_ tiling: MatmulTiling) -> Double {
        let plane = planes.targetHeight * planes.targetWidth
        let product = (plane + tiling.columns - 1) / tiling.columns * tiling.columns
        let implicit = (planes.targetWidth + tiling.columns - 1) / tiling.columns * tiling.columns * planes.targetHeight
        return Double(implicit) / Double(product)
    }
}

extension OpenCLBackend {
    /// The register tile conv2d_implicit_gemm runs `problem` with, or nil where im2col and one product are the
    /// better choice. Measured through PoCL on the 2-core EPYC (medians of the kernels in ResNet-50's forward pass
    /// and VGG-16 conv1_2, against im2col plus the product):
    /// - only on a CPU, where the kernel's vector reads of input rows are what PoCL turns into AVX loads (a GPU keeps
    ///   the product, whose loads coalesce);
    /// - stride 1 or 2 along rows (the kernel's vector reads);
    /// - windows of more than one tap: a 1×1 window leaves one tap per pass of the kernel's inner loop (ResNet's
    ///   1×1 stride-2 projection took 2.0 ms against 1.9), and at stride 1 needs no im2col at all;
    /// - rows that whole column tiles cover with at most 1/7 left over: the kernel's tiles end with the output row.
    ///   VGG-16 conv1_2 (224 wide) took 29 + 0.9 ms against 29 + 6.6; ResNet's 7×7 stem (112 wide) 4.0 against 4.7,
    ///   its 56-wide 3×3 layers 2.1 against 2.3 and 28-wide ones 1.9 against 2.0 at stride 1, and 1.9 against
    ///   1.9–2.1 at stride 2 (with the copy's even and odd columns apart; 2.1 without).
    func implicitGemmTiling(_ problem: ImplicitConvolution) -> MatmulTiling? {
        guard context.device.isCPU, problem.stride.width <= 2, problem.kernelHeight * problem.kernelWidth > 1
        else { return nil }
        let tiling = MatmulTiling.leastPadded(matmulTilings, work: problem.paddedWork)
        return problem.columnPadding(tiling) <= 8.0 / 7.0 ? tiling : nil
    }

    /// Runs `problem` with `tiling`: the source (N × sourceChannels × …) is padded into scratch memory, then
    /// conv2d_implicit_gemm computes the target from it and the weights (targetChannels × sourceChannels/groups ×
    /// KH × KW), plus `bias`. `weights` gets the scratch buffer and the offset past the padded source, and returns
    /// where the weights are: the backward pass flips them into scratch there.
    func implicitGemmConvolution(
        _ problem: ImplicitConvolution, tiling: MatmulTiling, source: DeviceBuffer, bias: DeviceBuffer?,
        target: DeviceBuffer, weightScratchFloats: Int = 0,
        weights: (_ scratch: DeviceBuffer, _ offset: Int) throws -> MatrixView
    ) throws {
        let (height, width) = (problem.paddedHeight, problem.paddedWidth)
        let padded = problem.paddedSourceFloats(tiling)
        let window: KeyValuePairs<String, Int> = [
            "KH": problem.kernelHeight, "KW": problem.kernelWidth, "SH": problem.stride.height,
            "SW": problem.stride.width, "DH": problem.dilation.height, "DW": problem.dilation.width,
            "PT": problem.padTop, "PL": problem.padLeft, "GROUPS": problem.groups,
            "TM": tiling.rows, "VW": tiling.vectorWidth, "NV": tiling.vectors, "HAS_BIAS": bias == nil ? 0 : 1,
        ]
        let planes = problem.batch * problem.sourceChannels
        let sourceCount = planes * problem.sourceHeight * problem.sourceWidth
        let targetCount = problem.batch * problem.targetChannels * problem.targetHeight * problem.targetWidth
        try scratch.withBuffer(floats: padded + weightScratchFloats, context: context) { buffer in
            // Runs of at least 4096 floats per work-item, each its own work-group, which PoCL's threads share out.
            let rows = min(height, max(1, 4096 / width))
            try context.launch(
                try kernel("conv2d_pad_input", in: "conv_gemm.cl", defines: window),
                global: [(height + rows - 1) / rows, planes], local: [1, 1],
                arguments: [.buffer(source), .buffer(buffer), .int(planes), .int(problem.sourceHeight),
                            .int(problem.sourceWidth), .int(height), .int(width), .int(rows)],
                annotation: LaunchAnnotation(
                    flops: 0, bytes: 4 * (sourceCount + planes * height * width),
                    detail: "\(planes)×\(problem.sourceHeight)×\(problem.sourceWidth) → \(height)×\(width)"))
            let w = try weights(buffer, padded)
            let rowTiles = (problem.targetChannelsPerGroup + tiling.rows - 1) / tiling.rows
            let columnTiles = problem.targetHeight * ((problem.targetWidth + tiling.columns - 1) / tiling.columns)
            try context.launch(
                try kernel("conv2d_implicit_gemm", in: "conv_gemm.cl", defines: window),
                global: [rowTiles, columnTiles, problem.batch * problem.groups], local: [1, 1, 1],
                arguments: [
                    .buffer(buffer), .buffer(w.buffer), .int(w.offset), bias.map { .buffer($0) } ?? .null,
                    .buffer(target), .int(problem.sourceChannels), .int(height), .int(width),
                    .int(problem.targetChannels), .int(problem.targetHeight), .int(problem.targetWidth),
                ],
                annotation: LaunchAnnotation(
                    flops: 2 * targetCount * (problem.weightCount / problem.targetChannels)
                        + (bias == nil ? 0 : targetCount),
                    bytes: 4 * (planes * height * width + problem.weightCount + targetCount),
                    detail: "\(problem.sourceChannels)×\(height)×\(width) → "
                        + "\(problem.targetChannels)×\(problem.targetHeight)×\(problem.targetWidth), "
                        + "\(problem.kernelHeight)×\(problem.kernelWidth) s\(problem.stride.height)×\(problem.stride.width)"
                        + (problem.batch > 1 ? ", batch \(problem.batch)" : "")))
        }
    }
}
