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

    public func permute(_ checked: Checked<PermuteGeometry>, input: Tensor, output: Tensor) throws {
        let g = checked.geometry
        try gatherStrided(input, into: output, base: 0, dims: g.output.dimensions, strides: g.inputStrides,
                          detail: "\(g.input) \(g.permutation) → \(g.output)")
    }

    public func sliceForward(_ checked: Checked<SliceGeometry>, input: Tensor, output: Tensor) throws {
        let g = checked.geometry
        try gatherStrided(input, into: output, base: g.base, dims: g.output.dimensions,
                          strides: zip(g.ranges, g.input.strides).map { $0.step * $1 }, detail: "\(g.input) → \(g.output)")
    }

    /// Every input element once: the output gradient where the slice took it, else zero (no separate clearing).
    public func sliceBackward(_ checked: Checked<SliceGeometry>, gradOutput: Tensor, gradInput: Tensor) throws {
        let g = checked.geometry
        let padding = PermuteGeometry.maximumRank - g.input.rank
        let dims = [Int](repeating: 1, count: padding) + g.input.dimensions
        let ranges = [AxisRange](repeating: .whole(1), count: padding) + g.ranges
        try launch(
            try kernel("slice_backward", in: "layout.cl"), global: [(dims[5] + 255) / 256, g.input.count / dims[5]],
            arguments: [.buffer(gradOutput.buffer), .buffer(gradInput.buffer)]
                + (dims + ranges.map(\.start) + ranges.map(\.step) + ranges.map(\.count)).map { .int($0) },
            cost: OpCost.copy(input: g.output.count, output: g.input.count), detail: "\(g.output) → \(g.input)")
    }

    /// y in row-major order over `dims` reads x at base + Σ position·stride: the permute and slice kernels' one
    /// gather. With the axes merged (`StridedAxes`), a gather whose input runs contiguously along the last axis
    /// copies rows (gather_rows), one that runs contiguously along another axis moves 16 × 16 tiles (transpose2d,
    /// batched over the remaining axes), and any other reads element by element (gather_strided; leading axes of
    /// size 1 pad the shape to the kernel's six, the innermost output axis the fastest).
    private func gatherStrided(_ input: Tensor, into output: Tensor, base: Int, dims: [Int], strides: [Int],
                               detail: String) throws {
        let axes = StridedAxes(dims: dims, strides: strides)
        let padding = PermuteGeometry.maximumRank - axes.dims.count
        let dims = [Int](repeating: 1, count: padding) + axes.dims
        let strides = [Int](repeating: 0, count: padding) + axes.strides
        let cost = OpCost.copy(input: output.shape.count, output: output.shape.count)
        if strides[5] == 1 {
            return try launch(
                try kernel("gather_rows", in: "layout.cl"), global: [(dims[5] + 255) / 256, output.shape.count / dims[5]],
                arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(base)]
                    + (dims + strides.prefix(5)).map { .int($0) },
                cost: cost, detail: detail)
        }
        if strides[5] > 0, let tileAxis = strides.lastIndex(of: 1) {
            // The tile's source rows run along the last axis, its columns along `tileAxis`; the other four axes are
            // the batch, each matrix at its own offset in both tensors.
            let outputStrides = TensorShape(dims).strides
            let batchAxes = (0..<5).filter { $0 != tileAxis }
            return try transpose(
                MatrixView(buffer: input.buffer, offset: base, rowStride: strides[5]), rows: dims[5],
                columns: dims[tileAxis], into: MatrixView(buffer: output.buffer, rowStride: outputStrides[tileAxis]),
                batch: TransposeBatch(extents: batchAxes.map { dims[$0] }, sourceSteps: batchAxes.map { strides[$0] },
                                      destinationSteps: batchAxes.map { outputStrides[$0] }),
                detail: detail)
        }
        try launch(
            try kernel("gather_strided", in: "layout.cl"), global: [dims[5], dims[4], output.shape.count / (dims[5] * dims[4])],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(base)] + (dims + strides).map { .int($0) },
            cost: cost, detail: detail)
    }

    /// `destination` = `source`ᵀ for a `rows` × `columns` matrix, once per position of `batch`: the permute and
    /// slice ops, and the convolutions' weight gradient, share the one kernel.
    func transpose(_ source: MatrixView, rows: Int, columns: Int, into destination: MatrixView,
                   batch: TransposeBatch = .single, detail: String? = nil) throws {
        let count = batch.extents.reduce(1, *)
        try launch(
            try kernel("transpose2d", in: "layout.cl"), global: [(columns + 15) / 16, (rows + 15) / 16, count],
            arguments: [.buffer(source.buffer), .int(source.offset), .int(source.rowStride), .buffer(destination.buffer),
                        .int(destination.offset), .int(destination.rowStride), .int(rows), .int(columns)]
                + (batch.extents.dropFirst() + batch.sourceSteps + batch.destinationSteps).map { .int($0) },
            cost: OpCost.copy(input: count * rows * columns, output: count * rows * columns),
            detail: detail ?? "\(count > 1 ? "\(count)× " : "")\(rows)×\(columns)")
    }
}

/// The matrices one transpose2d launch moves: four batch axes (outermost first), each with its extent and the
/// steps, in floats, from one matrix to the next along it in the source and in the destination.
struct TransposeBatch {
    let extents: [Int]
    let sourceSteps: [Int]
    let destinationSteps: [Int]

    static let single = TransposeBatch(extents: [1, 1, 1, 1], sourceSteps: [0, 0, 0, 0], destinationSteps: [0, 0, 0, 0])
}

/// A strided gather's output dims and the input's step along each, with the axes of size 1 dropped and each
/// neighbouring pair that the input also runs through in order (outer step = inner step × inner extent) merged,
/// so that the kernels index as few axes as the gather has: NCHW → NHWC becomes a 3136 × 96 transpose.
struct StridedAxes: Equatable {
    let dims: [Int]
    let strides: [Int]

    init(dims: [Int], strides: [Int]) {
        var merged: [(dim: Int, stride: Int)] = []
        for (dim, stride) in zip(dims, strides) where dim > 1 {
            if let outer = merged.last, outer.stride == stride * dim {
                merged[merged.count - 1] = (outer.dim * dim, stride)
            } else {
                merged.append((dim, stride))
            }
        }
        // A single element: one row of one.
        if merged.isEmpty { merged = [(1, 1)] }
        self.dims = merged.map(\.dim)
        self.strides = merged.map(\.stride)
    }
}
