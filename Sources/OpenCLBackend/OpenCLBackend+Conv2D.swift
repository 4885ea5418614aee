import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    /// Every algorithm but Winograd applies the epilogue in its store; Winograd's output transform runs it after,
    /// as the unfused ops would, on the output in place.
    public func conv2dForward(
        _ checked: Checked<Conv2DGeometry>, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor,
        parameters: Conv2DParameters, epilogue: ConvEpilogue, residual: Tensor?
    ) throws {
        let g = checked.geometry
        let algorithm = planner.algorithm(.forward, g)
        let fused = KernelEpilogue(epilogue: epilogue, residual: residual?.buffer)
        let operation = "conv2d forward \(algorithm) \(g)" + (epilogue.isNone ? "" : " \(epilogue)")
        try context.profiler.withOperation(operation) {
            let arguments: [KernelArgument] = [
                .buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                .buffer(output.buffer),
            ] + conv2dSizes(g)
            switch algorithm {
            case .depthwise, .depthwiseRows:
                try launch(
                    try depthwiseKernel("conv2d_depthwise_forward", g, hasBias: bias != nil,
                                        rows: algorithm == .depthwiseRows, epilogue: fused),
                    global: [g.outHeight, g.batch * g.outChannels], arguments: arguments + fused.arguments,
                    cost: g.forwardCost(hasBias: bias != nil), detail: "\(g)")
                return
            case .direct:
                let block = channelBlock(g.outChannelsPerGroup)
                try launch(
                    try conv2dKernel("conv2d_forward", g, hasBias: bias != nil, block: block, epilogue: fused),
                    global: [g.outWidth, g.outHeight, g.batch * g.outChannels / block],
                    arguments: arguments + fused.arguments, cost: g.forwardCost(hasBias: bias != nil), detail: "\(g)")
                return
            case .winograd, .winograd4x4:
                try winogradConvolution(
                    .forward(g, tile: algorithm == .winograd4x4 ? 4 : 2), source: input.buffer, weight: weight.buffer,
                    flipTransposed: false, bias: bias?.buffer, target: output.buffer)
            case .implicitGemm:
                let problem = ImplicitConvolution.forward(g)
                try implicitGemmConvolution(
                    problem, tiling: planner.implicitGemmTiling(problem), source: input.buffer, bias: bias?.buffer,
                    target: output.buffer, epilogue: fused
                ) { _, _ in MatrixView(buffer: weight.buffer, rowStride: g.columnRows) }
                return
            case .im2colGemm, .gemmLocal:
                try im2colGemmForward(input: input, weight: weight, bias: bias, output: output, g, epilogue: fused,
                                      engine: algorithm == .gemmLocal ? .local : .registerTiled)
                return
            case .implicitGemmLocal:
                try localImplicitGemmForward(input: input, weight: weight, bias: bias, output: output, g,
                                             epilogue: fused)
                return
            case .gemmCol2im, .splitK:
                throw ConvPlanError(algorithm: algorithm, pass: .forward, geometry: g)
            }
            if let residual { try binaryForward(.add, output, residual, output: output) }
            if let activation = epilogue.activation { try activationForward(activation, input: output, output: output) }
        }
    }

    public func conv2dBackwardInput(
        _ checked: Checked<Conv2DGeometry>, gradOutput: Tensor, weight: Tensor, gradInput: Tensor,
        parameters: Conv2DParameters
    ) throws {
        let g = checked.geometry
        let algorithm = planner.algorithm(.backwardInput, g)
        try context.profiler.withOperation("conv2d backward_input \(algorithm) \(g)") {
            let arguments: [KernelArgument] =
                [.buffer(gradOutput.buffer), .buffer(weight.buffer), .buffer(gradInput.buffer)] + conv2dSizes(g)
            switch algorithm {
            case .depthwise, .depthwiseRows:
                try launch(
                    try depthwiseKernel("conv2d_depthwise_backward_input", g, hasBias: false,
                                        rows: algorithm == .depthwiseRows),
                    global: [g.inHeight, g.batch * g.inChannels], arguments: arguments, cost: g.backwardInputCost,
                    detail: "\(g)")
            case .direct:
                let block = channelBlock(g.inChannelsPerGroup)
                try launch(
                    try conv2dKernel("conv2d_backward_input", g, hasBias: false, block: block),
                    global: [g.inWidth, g.inHeight, g.batch * g.inChannels / block], arguments: arguments,
                    cost: g.backwardInputCost, detail: "\(g)")
            case .winograd, .winograd4x4:
                try winogradConvolution(
                    .backwardInput(g, tile: algorithm == .winograd4x4 ? 4 : 2), source: gradOutput.buffer,
                    weight: weight.buffer, flipTransposed: true, bias: nil, target: gradInput.buffer)
            case .implicitGemm:
                try implicitGemmBackwardInput(gradOutput: gradOutput, weight: weight, gradInput: gradInput, g)
            case .im2colGemm:
                try im2colGemmBackwardInput(gradOutput: gradOutput, weight: weight, gradInput: gradInput, g)
            case .gemmCol2im, .gemmLocal:
                try gemmCol2imBackwardInput(gradOutput: gradOutput, weight: weight, gradInput: gradInput, g,
                                            engine: algorithm == .gemmLocal ? .local : .registerTiled)
            case .implicitGemmLocal:
                try localImplicitGemmBackwardInput(gradOutput: gradOutput, weight: weight, gradInput: gradInput, g)
            case .splitK:
                throw ConvPlanError(algorithm: algorithm, pass: .backwardInput, geometry: g)
            }
        }
    }

    public func conv2dBackwardWeight(
        _ checked: Checked<Conv2DGeometry>, gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?,
        parameters: Conv2DParameters
    ) throws {
        let g = checked.geometry
        let algorithm = planner.algorithm(.backwardWeight, g)
        try context.profiler.withOperation("conv2d backward_weight \(algorithm) \(g)") {
            let arguments: [KernelArgument] =
                [.buffer(gradOutput.buffer), .buffer(input.buffer), .buffer(gradWeight.buffer)] + conv2dSizes(g)
            switch algorithm {
            case .depthwise:
                // One work-item per output channel, each a long loop: on a CPU every channel is its own work-group,
                // so PoCL's two threads share them out evenly.
                let cost = g.backwardWeightCost(hasBias: false)
                try context.launch(
                    try conv2dKernel("conv2d_depthwise_backward_weight", g, hasBias: false, file: "depthwise.cl"),
                    global: [g.outChannels], local: [context.device.isCPU ? 1 : 64], arguments: arguments,
                    annotation: LaunchAnnotation(flops: cost.flops, bytes: cost.bytes, detail: "\(g)"))
            case .direct:
                try launch(
                    try conv2dKernel("conv2d_backward_weight", g, hasBias: false),
                    global: [g.kernelHeight * g.kernelWidth, g.inChannelsPerGroup, g.outChannels],
                    arguments: arguments, cost: g.backwardWeightCost(hasBias: false), detail: "\(g)")
            case .im2colGemm, .gemmLocal:
                try im2colGemmBackwardWeight(gradOutput: gradOutput, input: input, gradWeight: gradWeight, g,
                                             engine: algorithm == .gemmLocal ? .local : .registerTiled)
            case .splitK:
                try splitKBackwardWeight(gradOutput: gradOutput, input: input, gradWeight: gradWeight, g)
            case .depthwiseRows, .winograd, .implicitGemm, .gemmCol2im, .implicitGemmLocal, .winograd4x4:
                throw ConvPlanError(algorithm: algorithm, pass: .backwardWeight, geometry: g)
            }
            if let gradBias {
                try launch(
                    try conv2dKernel("conv2d_backward_bias", g, hasBias: true), global: [g.outChannels],
                    arguments: [.buffer(gradOutput.buffer), .buffer(gradBias.buffer), .int(g.batch),
                                .int(g.outChannels), .int(g.outHeight), .int(g.outWidth)])
            }
        }
    }

    /// Per image and group: y = W · col, col = im2col(x); a pointwise convolution reads x itself, one launch per
    /// group for every image.
    private func im2colGemmForward(input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor, _ g: Conv2DGeometry,
                                   epilogue: KernelEpilogue, engine: ProductEngine) throws
    {
        let (rows, terms, positions) = (g.outChannelsPerGroup, g.columnRows, g.outHeight * g.outWidth)
        if g.isPointwise {
            for group in 0..<g.groups {
                try matmul(
                    MatrixView(buffer: weight.buffer, offset: group * rows * terms, rowStride: terms),
                    MatrixView(buffer: input.buffer, offset: group * terms * positions, rowStride: positions),
                    into: MatrixView(buffer: output.buffer, offset: group * rows * positions, rowStride: positions),
                    bias: bias?.buffer, biasOffset: group * rows, m: rows, n: positions, k: terms,
                    batch: g.pointwiseImages(backward: false), epilogue: epilogue, engine: engine)
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
                    bias: bias?.buffer, biasOffset: group * rows, m: rows, n: positions, k: terms, epilogue: epilogue,
                    engine: engine)
            }
        }
    }

    /// Per image and group: dcol = Wᵀ · dy, then dx = col2im(dcol); a pointwise convolution writes dx itself, one
    /// launch per group for every image.
    private func gemmCol2imBackwardInput(gradOutput: Tensor, weight: Tensor, gradInput: Tensor, _ g: Conv2DGeometry,
                                         engine: ProductEngine) throws
    {
        let (rows, terms, positions) = (g.outChannelsPerGroup, g.columnRows, g.outHeight * g.outWidth)
        let inPlane = g.inHeight * g.inWidth
        // Wᵀ of each group: a constant weight's transposed copy read along its rows, else W read down its columns.
        let transposed = try transposedConstant(weight, g)
        func weightT(_ group: Int) -> (MatrixView, transposedA: Bool) {
            guard let transposed else {
                return (MatrixView(buffer: weight.buffer, offset: group * rows * terms, rowStride: terms), true)
            }
            return (MatrixView(buffer: transposed.buffer, offset: group * rows * terms, rowStride: rows), false)
        }
        if g.isPointwise {
            for group in 0..<g.groups {
                let (a, transposedA) = weightT(group)
                try matmul(
                    a, transposedA: transposedA,
                    MatrixView(buffer: gradOutput.buffer, offset: group * rows * positions, rowStride: positions),
                    into: MatrixView(buffer: gradInput.buffer, offset: group * terms * positions, rowStride: positions),
                    m: terms, n: positions, k: rows, batch: g.pointwiseImages(backward: true), engine: engine)
            }
            return
        }
        try withColumns(rows: terms, columns: positions) { dcol in
            for (image, group) in g.imagesAndGroups {
                let inputOffset = (image * g.inChannels + group * g.inChannelsPerGroup) * inPlane
                let (a, transposedA) = weightT(group)
                try matmul(
                    a, transposedA: transposedA,
                    MatrixView(buffer: gradOutput.buffer, offset: (image * g.outChannels + group * rows) * positions,
                               rowStride: positions),
                    into: dcol, m: terms, n: positions, k: rows, engine: engine)
                try launch(
                    try conv2dKernel("conv2d_col2im", g, hasBias: false, file: "im2col.cl"),
                    global: [g.inHeight, g.inChannelsPerGroup],
                    arguments: [.buffer(dcol.buffer), .int(dcol.rowStride), .buffer(gradInput.buffer),
                                .int(inputOffset)] + imageSizes(g) + [.int(g.inChannelsPerGroup)],
                    cost: g.loweringCost, detail: "\(terms)×\(positions)")
            }
        }
    }

    /// Per group: dWᵀ = Σ_images col · dyᵀ (col from im2col, or x itself for a pointwise convolution), each image's
    /// product added to the sum of those before it; then dW = (dWᵀ)ᵀ. Both operands of the product are then read
    /// along their rows.
    private func im2colGemmBackwardWeight(gradOutput: Tensor, input: Tensor, gradWeight: Tensor, _ g: Conv2DGeometry,
                                          engine: ProductEngine) throws
    {
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
                    try matmul(col, gradientT, into: sumT, m: terms, n: rows, k: positions, accumulate: image > 0,
                               engine: engine)
                }
                try transpose(sumT, rows: terms, columns: rows,
                              into: MatrixView(buffer: gradWeight.buffer, offset: group * rows * terms, rowStride: terms))
            }
        }
    }

    /// A stride-1 convolution's input gradient is itself a convolution of dy with the flipped, transposed weights
    /// and padding K−1−p (`hasTransposableWindow`): the weights are flipped once, then dy goes through
    /// conv2d_implicit_gemm here, or per image through im2col and one product in `im2colGemmBackwardInput`. Against
    /// Wᵀ·dy and col2im, the gather pass over the column matrix disappears and each product sums over all
    /// COUT·KH·KW terms (a long reduction like the forward's, instead of COUT terms per tile, which leaves the tile
    /// waiting on its stores).
    private func implicitGemmBackwardInput(gradOutput: Tensor, weight: Tensor, gradInput: Tensor, _ g: Conv2DGeometry)
        throws
    {
        let (inRows, terms) = (g.inChannelsPerGroup, g.outChannelsPerGroup * g.kernelHeight * g.kernelWidth)
        let problem = ImplicitConvolution.backwardInput(g)
        let made = try flippedConstant(weight, g)
        // Every group's flipped weights side by side: inChannels × terms, the layout of a convolution weight.
        try implicitGemmConvolution(
            problem, tiling: planner.implicitGemmTiling(problem), source: gradOutput.buffer, bias: nil,
            target: gradInput.buffer, weightScratchFloats: made == nil ? g.inChannels * terms : 0
        ) { buffer, offset in
            if let made { return made }
            for group in 0..<g.groups {
                try flipWeights(weight, group: group, g,
                                into: MatrixView(buffer: buffer, offset: offset + group * inRows * terms, rowStride: terms))
            }
            return MatrixView(buffer: buffer, offset: offset, rowStride: terms)
        }
    }

    /// The input gradient as a convolution of dy (see `implicitGemmBackwardInput`) through im2col and one product
    /// per image and group, dx = W̃ · col(dy).
    private func im2colGemmBackwardInput(gradOutput: Tensor, weight: Tensor, gradInput: Tensor, _ g: Conv2DGeometry)
        throws
    {
        let (inRows, outRows, taps) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight * g.kernelWidth)
        let terms = outRows * taps, inPlane = g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        let p = g.parameters
        let defines: KeyValuePairs<String, Int> = [
            "KH": g.kernelHeight, "KW": g.kernelWidth, "PT": g.kernelHeight - 1 - p.padding.top,
            "PL": g.kernelWidth - 1 - p.padding.left,
        ]
        let tile = matmulTiling.columns, colStride = (inPlane + tile - 1) / tile * tile
        let rows = im2colRows(height: g.inHeight, width: g.inWidth)
        let made = try flippedConstant(weight, g)
        try scratch.withBuffer(floats: inRows * terms + terms * colStride, context: context) { buffer in
            let col = MatrixView(buffer: buffer, offset: inRows * terms, rowStride: colStride)
            for group in 0..<g.groups {
                var flipped = MatrixView(buffer: buffer, rowStride: terms)
                if let made {
                    flipped = MatrixView(buffer: made.buffer, offset: group * inRows * terms, rowStride: terms)
                } else {
                    try flipWeights(weight, group: group, g, into: flipped)
                }
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

    /// Output rows per conv2d_im2col work-item: enough for runs of `im2colRunFloats`, at most the map's height.
    private func im2colRows(height: Int, width: Int) -> Int {
        min(height, max(1, (tuning.im2colRunFloats + width - 1) / width))
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
        rows: (input: Int, output: Int)? = nil, epilogue: KernelEpilogue = .none
    ) throws -> Kernel {
        let p = g.parameters
        let defines = [
            ("KH", g.kernelHeight), ("KW", g.kernelWidth), ("SH", p.stride.height), ("SW", p.stride.width),
            ("DH", p.dilation.height), ("DW", p.dilation.width), ("PT", p.padding.top), ("PL", p.padding.left),
            ("GROUPS", p.groups), ("HAS_BIAS", hasBias ? 1 : 0), ("BLOCK", block),
        ]
        let rowDefines = rows.map { [("ROW_W", $0.input), ("ROW_OW", $0.output)] } ?? []
        return try kernel(name, in: file, defineList: defines + rowDefines + epilogue.defines)
    }

    /// The depthwise kernel `name`, or its row-buffer variant (`name` + `_rows`, sized for g's rows).
    private func depthwiseKernel(_ name: String, _ g: Conv2DGeometry, hasBias: Bool, rows: Bool,
                                 epilogue: KernelEpilogue = .none) throws -> Kernel {
        guard rows else { return try conv2dKernel(name, g, hasBias: hasBias, file: "depthwise.cl", epilogue: epilogue) }
        return try conv2dKernel(name + "_rows", g, hasBias: hasBias, file: "depthwise.cl",
                                rows: (g.inWidth, g.outWidth), epilogue: epilogue)
    }

    /// The size arguments every conv kernel but the bias gradient takes: N, C, H, W, COUT, OH, OW.
    private func conv2dSizes(_ g: Conv2DGeometry) -> [KernelArgument] {
        [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.outHeight, g.outWidth].map { .int($0) }
    }
}

/// The planner chose an algorithm for a pass it does not compute: a bug in `ConvPlanner`, reported instead of run.
struct ConvPlanError: Error, CustomStringConvertible {
    let algorithm: ConvAlgorithm
    let pass: ConvPass
    let geometry: Conv2DGeometry
    var description: String { "conv2d \(pass.rawValue): algorithm \(algorithm) does not compute \(geometry)" }
}
