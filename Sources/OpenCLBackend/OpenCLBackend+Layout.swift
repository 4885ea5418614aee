import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func concatForward(_ checked: Checked<ConcatGeometry>, _ inputs: [Tensor], output: Tensor) throws {
        let g = checked.geometry
        let kernel = try kernel("concat_forward", in: "layout.cl")
        // Each launch moves one input's share of OpCost.concat(g).
        for (input, offset) in zip(inputs, g.channelOffsets) {
            try launch(kernel, global: [input.shape.count / input.shape[0], input.shape[0]],
                       arguments: [.buffer(input.buffer), .buffer(output.buffer)] + concatSizes(input.shape, g, offset),
                       cost: OpCost.copy(input: input.shape.count, output: input.shape.count),
                       detail: "\(input.shape) → \(g.output)")
        }
    }

    public func concatBackward(_ checked: Checked<ConcatGeometry>, gradOutput: Tensor, gradInputs: [Tensor]) throws {
        let g = checked.geometry
        let kernel = try kernel("concat_backward", in: "layout.cl")
        // Each launch moves one input's share of OpCost.concat(g).
        for (gradInput, offset) in zip(gradInputs, g.channelOffsets) {
            try launch(kernel, global: [gradInput.shape.count / gradInput.shape[0], gradInput.shape[0]],
                       arguments: [.buffer(gradOutput.buffer), .buffer(gradInput.buffer)]
                           + concatSizes(gradInput.shape, g, offset),
                       cost: OpCost.copy(input: gradInput.shape.count, output: gradInput.shape.count),
                       detail: "\(g.output) → \(gradInput.shape)")
        }
    }

    /// N, CI, HW, CTOTAL, OFFSET for one concatenated input of `shape`.
    private func concatSizes(_ shape: TensorShape, _ g: ConcatGeometry, _ offset: Int) -> [KernelArgument] {
        [.int(shape[0]), .int(shape[1]), .int(shape[2] * shape[3]), .int(g.output[1]), .int(offset)]
    }

    public func pad2dForward(
        _ checked: Checked<Pad2DGeometry>, input: Tensor, output: Tensor, padding: Padding2D, value: Float
    ) throws {
        let g = checked.geometry
        try launch(
            try kernel("pad2d_forward", in: "layout.cl"), global: [g.output[3], g.output[2], g.input[0] * g.input[1]],
            arguments: [.buffer(input.buffer), .buffer(output.buffer)] + pad2dSizes(g) + [.float(value)],
            cost: OpCost.copy(input: g.input.count, output: g.output.count), detail: "\(g.input) → \(g.output)")
    }

    public func pad2dBackward(
        _ checked: Checked<Pad2DGeometry>, gradOutput: Tensor, gradInput: Tensor, padding: Padding2D
    ) throws {
        let g = checked.geometry
        // Only the interior of the output gradient is read: one input-sized plane set each way.
        try launch(
            try kernel("pad2d_backward", in: "layout.cl"), global: [g.input[3], g.input[2], g.input[0] * g.input[1]],
            arguments: [.buffer(gradOutput.buffer), .buffer(gradInput.buffer)] + pad2dSizes(g),
            cost: OpCost.copy(input: g.input.count, output: g.input.count), detail: "\(g.output) → \(g.input)")
    }

    /// PLANES, H, W, OH, OW, TOP, LEFT.
    private func pad2dSizes(_ g: Pad2DGeometry) -> [KernelArgument] {
        [g.input[0] * g.input[1], g.input[2], g.input[3], g.output[2], g.output[3], g.padding.top, g.padding.left]
            .map { .int($0) }
    }

    public func transpose2d(_ checked: Checked<TensorShape>, input: Tensor, output: Tensor) throws {
        let (rows, columns) = (input.shape[0], input.shape[1])
        try transpose(MatrixView(buffer: input.buffer, rowStride: columns), rows: rows, columns: columns,
                      into: MatrixView(buffer: output.buffer, rowStride: rows))
    }

    /// `destination` = `source`ᵀ for a `rows` × `columns` matrix: the transpose2d op and the convolutions' weight
    /// gradient share the one kernel.
    func transpose(_ source: MatrixView, rows: Int, columns: Int, into destination: MatrixView) throws {
        try launch(
            try kernel("transpose2d", in: "layout.cl"), global: [(columns + 15) / 16, (rows + 15) / 16],
            arguments: [.buffer(source.buffer), .int(source.offset), .int(source.rowStride), .buffer(destination.buffer),
                        .int(destination.offset), .int(destination.rowStride), .int(rows), .int(columns)],
            cost: OpCost.copy(input: rows * columns, output: rows * columns), detail: "\(rows)×\(columns)")
    }
}
