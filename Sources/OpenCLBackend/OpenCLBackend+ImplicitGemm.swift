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
    /// Runs `problem` with `tiling`: the source (N × sourceChannels × …) is padded into scratch memory, then
    /// conv2d_implicit_gemm computes the target from it and the weights (targetChannels × sourceChannels/groups ×
    /// KH × KW), plus `bias`, then `epilogue`. `weights` gets the scratch buffer and the offset past the padded
    /// source, and returns where the weights are: the backward pass flips them into scratch there.
    func implicitGemmConvolution(
        _ problem: ImplicitConvolution, tiling: MatmulTiling, source: DeviceBuffer, bias: DeviceBuffer?,
        target: DeviceBuffer, epilogue: KernelEpilogue = .none, weightScratchFloats: Int = 0,
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
            // Runs of `padRunFloats` per work-item, each its own work-group, which PoCL's threads share out.
            let rows = min(height, max(1, tuning.padRunFloats / width))
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
            let defines = window.map { ($0.key, $0.value) } + epilogue.defines
            try context.launch(
                try kernel("conv2d_implicit_gemm", in: "conv_gemm.cl", defineList: defines),
                global: [rowTiles, columnTiles, problem.batch * problem.groups], local: [1, 1, 1],
                arguments: [
                    .buffer(buffer), .buffer(w.buffer), .int(w.offset), bias.map { .buffer($0) } ?? .null,
                    .buffer(target), .int(problem.sourceChannels), .int(height), .int(width),
                    .int(problem.targetChannels), .int(problem.targetHeight), .int(problem.targetWidth),
                ] + epilogue.arguments,
                annotation: LaunchAnnotation(
                    flops: 2 * targetCount * (problem.weightCount / problem.targetChannels)
                        + (bias == nil ? 0 : targetCount) + epilogue.flopsPerElement * targetCount,
                    bytes: 4 * (planes * height * width + problem.weightCount + targetCount
                                + (epilogue.residual == nil ? 0 : targetCount)),
                    detail: "\(problem.sourceChannels)×\(height)×\(width) → "
                        + "\(problem.targetChannels)×\(problem.targetHeight)×\(problem.targetWidth), "
                        + "\(problem.kernelHeight)×\(problem.kernelWidth) s\(problem.stride.height)×\(problem.stride.width)"
                        + (problem.batch > 1 ? ", batch \(problem.batch)" : "")))
        }
    }
}
