import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func conv2dForward(
        input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape,
            parameters: parameters)
        if g.isDepthwise {
            return try launch(
                try depthwiseKernel("conv2d_depthwise_forward", g, hasBias: bias != nil),
                global: [g.outHeight, g.batch * g.outChannels],
                arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                            .buffer(output.buffer)] + conv2dSizes(g),
                cost: g.forwardCost(hasBias: bias != nil), detail: "\(g)")
        }
        guard usesMatmul(g) else {
            let block = channelBlock(g.outChannelsPerGroup)
            return try launch(
                try conv2dKernel("conv2d_forward", g, hasBias: bias != nil, block: block),
                global: [g.outWidth, g.outHeight, g.batch * g.outChannels / block],
                arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                            .buffer(output.buffer)] + conv2dSizes(g),
                cost: g.forwardCost(hasBias: bias != nil), detail: "\(g)")
        }
        if g.suitsWinograd, case let problem = WinogradConvolution.forward(g), problem.isFaster {
            return try winogradConvolution(
                problem, source: input.buffer, weight: weight.buffer, flipTransposed: false, bias: bias?.buffer,
                target: output.buffer)
        }
        if case let problem = ImplicitConvolution.forward(g), let tiling = implicitGemmTiling(problem) {
            return try implicitGemmConvolution(
                problem, tiling: tiling, source: input.buffer, bias: bias?.buffer, target: output.buffer
            ) { _, _ in MatrixView(buffer: weight.buffer, rowStride: g.columnRows) }
        }
        // Per image and group: y = W · col, col = im2col(x); a pointwise convolution reads x itself, one launch per
        // group for every image.
        let (rows, terms, positions) = (g.outChannelsPerGroup, g.columnRows, g.outHeight * g.outWidth)
        if g.isPointwise {
            for group in 0..<g.groups {
                try matmul(
                    MatrixView(buffer: weight.buffer, offset: group * rows * terms, rowStride: terms),
                    MatrixView(buffer: input.buffer, offset: group * terms * positions, rowStride: positions),
                    into: MatrixView(buffer: output.buffer, offset: group * rows * positions, rowStride: positions),
                    bias: bias?.buffer, biasOffset: group * rows, m: rows, n: positions, k: terms,
                    batch: g.pointwiseImages(backward: false))
            }
            return
        }
        try withColumns(rows: terms, columns: positions) { col in
            for (image, group) in g.imagesAndGroups {
                let columns = try lowered(input, g, image: image, group: group, into: col)
                try matmul(
                    MatrixView(buffer: weight.buffer, offset: group * rows * terms, rowStride: terms), columns,
                    into: MatrixView(buffer: output.buffer, offset: (image * g.outChannels + group * rows) * positions,
                                     rowStride: positions),
                    bias: bias?.buffer, biasOffset: group * rows, m: rows, n: positions, k: terms)
            }
        }
    }

    public func conv2dBackwardInput(
        gradOutput: Tensor, weight: Tensor, gradInput: Tensor, parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape,
            parameters: parameters)
        if g.isDepthwise {
            return try launch(
                try depthwiseKernel("conv2d_depthwise_backward_input", g, hasBias: false),
                global: [g.inHeight, g.batch * g.inChannels],
                arguments: [.buffer(gradOutput.buffer), .buffer(weight.buffer), .buffer(gradInput.buffer)]
                    + conv2dSizes(g),
                cost: g.backwardInputCost, detail: "\(g)")
        }
        guard usesMatmul(g) else {
            let block = channelBlock(g.inChannelsPerGroup)
            return try launch(
                try conv2dKernel("conv2d_backward_input", g, hasBias: false, block: block),
                global: [g.inWidth, g.inHeight, g.batch * g.inChannels / block],
                arguments: [.buffer(gradOutput.buffer), .buffer(weight.buffer), .buffer(gradInput.buffer)]
                    + conv2dSizes(g),
                cost: g.backwardInputCost, detail: "\(g)")
        }
        if g.hasTransposableWindow && g.suitsWinograd, case let problem = WinogradConvolution.backwardInput(g),
            problem.isFaster
        {
            return try winogradConvolution(
                problem, source: gradOutput.buffer, weight: weight.buffer, flipTransposed: true, bias: nil,
                target: gradInput.buffer)
        }
        if g.hasTransposableWindow && !g.isPointwise {
            return try backwardInputAsConvolution(gradOutput: gradOutput, weight: weight, gradInput: gradInput, g)
        }
        // Per image and group: dcol = Wᵀ · dy, then dx = col2im(dcol); a pointwise convolution writes dx itself, one
        // launch per group for every image.
        let (rows, terms, positions) = (g.outChannelsPerGroup, g.columnRows, g.outHeight * g.outWidth)
        let inPlane = g.inHeight * g.inWidth
        if g.isPointwise {
            for group in 0..<g.groups {
                try matmul(
                    MatrixView(buffer: weight.buffer, offset: group * rows * terms, rowStride: terms), transposedA: true,
                    MatrixView(buffer: gradOutput.buffer, offset: group * rows * positions, rowStride: positions),
                    into: MatrixView(buffer: gradInput.buffer, offset: group * terms * positions, rowStride: positions),
                    m: terms, n: positions, k: rows, batch: g.pointwiseImages(backward: true))
            }
            return
        }
        try withColumns(rows: terms, columns: positions) { dcol in
            for (image, group) in g.imagesAndGroups {
                let inputOffset = (image * g.inChannels + group * g.inChannelsPerGroup) * inPlane
                try matmul(
                    MatrixView(buffer: weight.buffer, offset: group * rows * terms, rowStride: terms), transposedA: true,
                    MatrixView(buffer: gradOutput.buffer, offset: (image * g.outChannels + group * rows) * positions,
                               rowStride: positions),
                    into: dcol, m: terms, n: positions, k: rows)
                try launch(
                    try conv2dKernel("conv2d_col2im", g, hasBias: false, file: "im2col.cl"),
                    global: [g.inHeight, g.inChannelsPerGroup],
                    arguments: [.buffer(dcol.buffer), .int(dcol.rowStride), .buffer(gradInput.buffer),
                                .int(inputOffset)] + imageSizes(g) + [.int(g.inChannelsPerGroup)],
                    cost: g.loweringCost, detail: "\(terms)×\(positions)")
            }
        }
    }

    public func conv2dBackwardWeight(
        gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape,
            parameters: parameters)
        if g.isDepthwise {
            // One work-item per output channel, each a long loop: on a CPU every channel is its own work-group, so
            // PoCL's two threads share them out evenly.
            let cost = g.backwardWeightCost(hasBias: false)
            try context.launch(
                try conv2dKernel("conv2d_depthwise_backward_weight", g, hasBias: false, file: "depthwise.cl"),
                global: [g.outChannels], local: [context.device.isCPU ? 1 : 64],
                arguments: [.buffer(gradOutput.buffer), .buffer(input.buffer), .buffer(gradWeight.buffer)]
                    + conv2dSizes(g),
                annotation: LaunchAnnotation(flops: cost.flops, bytes: cost.bytes, detail: "\(g)"))
        } else if usesMatmul(g) {
            // Per group: dWᵀ = Σ_images col · dyᵀ (col from im2col, or x itself for a pointwise convolution), each
            // image's product added to the sum of those before it; then dW = (dWᵀ)ᵀ. Both operands of the product
            // are then read along their rows.
            let (rows, terms, positions) = (g.outChannelsPerGroup, g.columnRows, g.outHeight * g.outWidth)
            let tile = matmulTiling.columns
            let colStride = (positions + tile - 1) / tile * tile, gradientStride = (rows + tile - 1) / tile * tile
            let colFloats = g.isPointwise ? 0 : terms * colStride
            try scratch.withBuffer(floats: colFloats + positions * gradientStride + terms * gradientStride,
                                   context: context) { buffer in
                let gradientT = MatrixView(buffer: buffer, offset: colFloats, rowStride: gradientStride)
                let sumT = MatrixView(buffer: buffer, offset: colFloats + positions * gradientStride, rowStride: gradientStride)
                for group in 0..<g.groups {
                    for image in 0..<g.batch {
                        let col = try lowered(input, g, image: image, group: group,
                                              into: g.isPointwise ? nil : MatrixView(buffer: buffer, rowStride: colStride))
                        let gradient = MatrixView(buffer: gradOutput.buffer,
                                                  offset: (image * g.outChannels + group * rows) * positions, rowStride: positions)
                        try transpose(gradient, rows: rows, columns: positions, into: gradientT)
                        try matmul(col, gradientT, into: sumT, m: terms, n: rows, k: positions, accumulate: image > 0)
                    }
                    try transpose(sumT, rows: terms, columns: rows,
                                  into: MatrixView(buffer: gradWeight.buffer, offset: group * rows * terms, rowStride: terms))
                }
            }
        } else {
            try launch(
                try conv2dKernel("conv2d_backward_weight", g, hasBias: false),
                global: [g.kernelHeight * g.kernelWidth, g.inChannelsPerGroup, g.outChannels],
                arguments: [.buffer(gradOutput.buffer), .buffer(input.buffer), .buffer(gradWeight.buffer)]
                    + conv2dSizes(g),
                cost: g.backwardWeightCost(hasBias: false), detail: "\(g)")
        }
        if let gradBias {
            try launch(
                try conv2dKernel("conv2d_backward_bias", g, hasBias: true), global: [g.outChannels],
                arguments: [.buffer(gradOutput.buffer), .buffer(gradBias.buffer), .int(g.batch),
                            .int(g.outChannels), .int(g.outHeight), .int(g.outWidth)])
        }
    }

    /// A stride-1 convolution's input gradient is itself a convolution of dy with the flipped, transposed weights
    /// and padding K−1−p: the weights are flipped once, then dy goes through conv2d_implicit_gemm, or per image
    /// through im2col and one product, dx = W̃ · col(dy). Against Wᵀ·dy and col2im, the gather pass over the column
    /// matrix disappears and each product sums over all COUT·KH·KW terms (a long reduction like the forward's,
    /// instead of COUT terms per tile, which leaves the tile waiting on its stores).
    private func backwardInputAsConvolution(gradOutput: Tensor, weight: Tensor, gradInput: Tensor, _ g: Conv2DGeometry)
        throws
    {
        let (inRows, outRows, taps) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight * g.kernelWidth)
        let terms = outRows * taps, inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        if case let problem = ImplicitConvolution.backwardInput(g), let tiling = implicitGemmTiling(problem) {
            // Every group's flipped weights side by side: inChannels × terms, the layout of a convolution weight.
            return try implicitGemmConvolution(
                problem, tiling: tiling, source: gradOutput.buffer, bias: nil, target: gradInput.buffer,
                weightScratchFloats: g.inChannels * terms
            ) { buffer, offset in
                for group in 0..<g.groups {
                    try flipWeights(weight, group: group, g,
                                    into: MatrixView(buffer: buffer, offset: offset + group * inRows * terms, rowStride: terms))
                }
                return MatrixView(buffer: buffer, offset: offset, rowStride: terms)
            }
        }
        let p = g.parameters
        let defines: KeyValuePairs<String, Int> = [
            "KH": g.kernelHeight, "KW": g.kernelWidth, "PT": g.kernelHeight - 1 - p.padding.top,
            "PL": g.kernelWidth - 1 - p.padding.left,
        ]
        let tile = matmulTiling.columns, colStride = (inPlane + tile - 1) / tile * tile
        let rows = im2colRows(height: g.inHeight, width: g.inWidth)
        try scratch.withBuffer(floats: inRows * terms + terms * colStride, context: context) { buffer in
            let flipped = MatrixView(buffer: buffer, rowStride: terms)
            let col = MatrixView(buffer: buffer, offset: inRows * terms, rowStride: colStride)
            for group in 0..<g.groups {
                try flipWeights(weight, group: group, g, into: flipped)
                for image in 0..<g.batch {
                    // im2col of dy: "input" OH×OW, "output" H×W, window KH×KW with padding K−1−p.
                    try launch(
                        try kernel("conv2d_im2col", in: "im2col.cl", defines: defines),
                        global: [(g.inHeight + rows - 1) / rows, terms],
                        arguments: [.buffer(gradOutput.buffer), .int((image * g.outChannels + group * outRows) * outPlane),
                                    .buffer(buffer), .int(col.offset), .int(colStride), .int(terms),
                                    .int(g.outHeight), .int(g.outWidth), .int(g.inHeight), .int(g.inWidth), .int(rows)],
                        cost: OpCost(flops: 0, bytes: 4 * (terms * inPlane + outRows * outPlane)),
                        detail: "\(terms)×\(inPlane)")
                    try matmul(
                        flipped, col,
                        into: MatrixView(buffer: gradInput.buffer, offset: (image * g.inChannels + group * inRows) * inPlane,
                                         rowStride: inPlane),
                        m: inRows, n: inPlane, k: terms)
                }
            }
        }
    }

    /// One group's weights flipped and transposed for `backwardInputAsConvolution`, into `flipped` (inChannels of
    /// the group × outChannels·KH·KW).
    private func flipWeights(_ weight: Tensor, group: Int, _ g: Conv2DGeometry, into flipped: MatrixView) throws {
        let (inRows, outRows, taps) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight * g.kernelWidth)
        // The flip's tile of TILE × TILE tap blocks in local memory: the largest that fits 16 KB.
        let flipTile = [16, 8, 4, 2].first { $0 * $0 * taps * MemoryLayout<Float>.stride <= 16 << 10 } ?? 1
        try context.launch(
            try kernel("conv2d_flipped_weight", in: "conv2d.cl",
                       defines: ["KH": g.kernelHeight, "KW": g.kernelWidth, "TILE": flipTile]),
            global: [inRows, outRows], local: [flipTile, flipTile],
            arguments: [.buffer(weight.buffer), .int(group * outRows * inRows * taps), .buffer(flipped.buffer),
                        .int(flipped.offset), .int(inRows), .int(outRows)],
            annotation: LaunchAnnotation(flops: 0, bytes: 8 * inRows * outRows * taps,
                                         detail: "\(outRows)×\(inRows)×\(taps)"))
    }

    /// Depthwise convolutions have their own kernels (depthwise.cl); others with at least 4 output channels per
    /// group run as matrix products; narrow groups, where a product would be mostly tile padding, keep the direct
    /// kernels of conv2d.cl.
    private func usesMatmul(_ g: Conv2DGeometry) -> Bool { g.outChannelsPerGroup >= 4 }

    /// Runs `body` with a scratch matrix of `rows` × `columns`, its row stride rounded up to whole column tiles so
    /// rows start aligned.
    private func withColumns(rows: Int, columns: Int, _ body: (MatrixView) throws -> Void) throws {
        let tile = matmulTiling.columns
        let stride = (columns + tile - 1) / tile * tile
        try scratch.withBuffer(floats: rows * stride, context: context) { buffer in
            try body(MatrixView(buffer: buffer, rowStride: stride))
        }
    }

    /// The B operand of the forward product for one image and group: x's planes when the convolution is
    /// pointwise, else `col` filled by conv2d_im2col.
    private func lowered(_ input: Tensor, _ g: Conv2DGeometry, image: Int, group: Int, into col: MatrixView?) throws
        -> MatrixView
    {
        let inPlane = g.inHeight * g.inWidth
        let offset = (image * g.inChannels + group * g.inChannelsPerGroup) * inPlane
        guard let col else { return MatrixView(buffer: input.buffer, offset: offset, rowStride: inPlane) }
        let rows = im2colRows(height: g.outHeight, width: g.outWidth)
        try launch(
            try conv2dKernel("conv2d_im2col", g, hasBias: false, file: "im2col.cl"),
            global: [(g.outHeight + rows - 1) / rows, g.columnRows],
            arguments: [.buffer(input.buffer), .int(offset), .buffer(col.buffer), .int(col.offset), .int(col.rowStride),
                        .int(g.columnRows)] + imageSizes(g) + [.int(rows)],
            cost: g.loweringCost, detail: "\(g.columnRows)×\(g.outHeight * g.outWidth)")
        return col
    }

    /// Output rows per conv2d_im2col work-item: enough for runs of at least 256 floats (2 rows of a 224-wide map,
    /// 10 of a 28-wide one), at most the map's height. On ResNet's 3×3 stride-2 layer (28 × 28 outputs) the lowering
    /// went from 0.42–0.55 ms with one row per work-item to 0.35–0.43 ms.
    private func im2colRows(height: Int, width: Int) -> Int {
        min(height, max(1, (256 + width - 1) / width))
    }

    /// H, W, OH, OW: the sizes the im2col.cl kernels take last.
    private func imageSizes(_ g: Conv2DGeometry) -> [KernelArgument] {
        [g.inHeight, g.inWidth, g.outHeight, g.outWidth].map { .int($0) }
    }

    /// Channels per work-item: the largest of 8, 4, 2, 1 that divides the channels of a group.
    private func channelBlock(_ channelsPerGroup: Int) -> Int {
        [8, 4, 2, 1].first { channelsPerGroup % $0 == 0 } ?? 1
    }

    /// The conv kernels share one program per geometry and block: the window shape is compiled in, sizes are not
    /// (but for the depthwise row-buffer kernels, which size their private rows by `rows`: input and output width).
    private func conv2dKernel(
        _ name: String, _ g: Conv2DGeometry, hasBias: Bool, block: Int = 1, file: String = "conv2d.cl",
        rows: (input: Int, output: Int)? = nil
    ) throws -> Kernel {
        let p = g.parameters
        let defines = [
            ("KH", g.kernelHeight), ("KW", g.kernelWidth), ("SH", p.stride.height), ("SW", p.stride.width),
            ("DH", p.dilation.height), ("DW", p.dilation.width), ("PT", p.padding.top), ("PL", p.padding.left),
            ("GROUPS", p.groups), ("HAS_BIAS", hasBias ? 1 : 0), ("BLOCK", block),
        ]
        return try kernel(name, in: file, defineList: defines + (rows.map { [("ROW_W", $0.input), ("ROW_OW", $0.output)] } ?? []))
    }

    /// The depthwise kernel for `g`: the row-buffer variant (its name + `_rows`) when a row of each side fits in
    /// private memory, else the general one.
    private func depthwiseKernel(_ name: String, _ g: Conv2DGeometry, hasBias: Bool) throws -> Kernel {
        guard g.depthwiseRowsFit else { return try conv2dKernel(name, g, hasBias: hasBias, file: "depthwise.cl") }
        return try conv2dKernel(name + "_rows", g, hasBias: hasBias, file: "depthwise.cl",
                                rows: (g.inWidth, g.outWidth))
    }

    /// The size arguments every conv kernel but the bias gradient takes: N, C, H, W, COUT, OH, OW.
    private func conv2dSizes(_ g: Conv2DGeometry) -> [KernelArgument] {
        [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.outHeight, g.outWidth].map { .int($0) }
    }
}

extension Conv2DGeometry {
    /// Rows of the im2col matrix: the terms of one output value, CI/groups · KH · KW.
    var columnRows: Int { inChannelsPerGroup * kernelHeight * kernelWidth }

    /// A 1×1 window with stride 1 and no padding: the input planes already are the im2col matrix.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && parameters.stride == Size2D(1) && parameters.padding == Padding2D(0)
    }

    /// One image and group's im2col matrix written (or folded back) and its input planes read, no arithmetic
    /// (col2im's additions are counted as none: they are at most KH·KW per input value).
    var loweringCost: OpCost {
        OpCost(flops: 0, bytes: 4 * (columnRows * outHeight * outWidth + inChannelsPerGroup * inHeight * inWidth))
    }

    /// Stride 1, no dilation, and no padding beyond the window on any side: the input gradient is then a plain
    /// convolution of dy (padding K−1−p ≥ 0).
    var hasTransposableWindow: Bool {
        let p = parameters
        return p.stride == Size2D(1) && p.dilation == Size2D(1)
            && [p.padding.top, p.padding.bottom].allSatisfy { $0 <= kernelHeight - 1 }
            && [p.padding.left, p.padding.right].allSatisfy { $0 <= kernelWidth - 1 }
    }

    /// A pointwise convolution's products batched over the images: the weights shared, the operand and the result
    /// an image apart (x and y forward, dy and dx backward).
    func pointwiseImages(backward: Bool) -> MatmulBatch {
        let (x, y) = (inChannels * inHeight * inWidth, outChannels * outHeight * outWidth)
        return MatmulBatch(count: batch, aStride: 0, bStride: backward ? y : x, cStride: backward ? x : y)
    }

    /// The depthwise row-buffer kernels' private rows (an output and a padded input row, or an input and a spread
    /// dy row) stay within 1,024 floats: beyond that a CPU thread's stack frame grows past its caches, and a GPU
    /// would spill.
    var depthwiseRowsFit: Bool {
        let (p, reach) = (parameters, (kernelWidth - 1) * parameters.dilation.width)
        let forward = outWidth + (outWidth - 1) * p.stride.width + reach + 1
        let backward = inWidth + inWidth + p.padding.left + reach
        return max(forward, backward) <= 1024
    }

    /// One input channel per group (MobileNet's depthwise layers, any channel multiplier).
    var isDepthwise: Bool { inChannelsPerGroup == 1 && groups > 1 }

    /// Every (image, group) pair, images outermost.
    var imagesAndGroups: [(Int, Int)] { (0..<batch).flatMap { image in (0..<groups).map { (image, $0) } } }
}
