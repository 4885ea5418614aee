import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func binaryForward(
        _ checked: Checked<BroadcastGeometry>, _ op: BinaryOp, _ a: Tensor, _ b: Tensor, output: Tensor
    ) throws {
        let g = checked.geometry
        let operands: [KernelArgument] = [.buffer(a.buffer), .buffer(b.buffer), .buffer(output.buffer)]
        guard a.shape != output.shape || b.shape != output.shape else {
            return try launch(
                try kernel("binary_forward", in: "elementwise.cl", defines: ["OP": opCode(op)]),
                global: [g.output.count], arguments: operands + [.int(g.output.count)],
                cost: OpCost.binary(g, backward: false))
        }
        let rows = BroadcastRows(g)
        try launch(
            try kernel("binary_forward_rows", in: "elementwise.cl", defineList: [("OP", opCode(op))] + rows.defines),
            global: rows.global, arguments: operands + rows.sizes, cost: OpCost.binary(g, backward: false))
    }

    public func binaryBackward(
        _ checked: Checked<BroadcastGeometry>, _ op: BinaryOp, a: Tensor, b: Tensor, gradOutput: Tensor,
        gradA: Tensor?, gradB: Tensor?
    ) throws {
        let g = checked.geometry
        let strides = g.kernelStrides(g.kernelA) + g.kernelStrides(g.kernelB)
        // Each operand's gradient is a gather over the output elements it fed, reading the operands it needs; an
        // operand shaped like the output fed one element each, and takes the row kernel.
        for (side, grad, own, dims) in [(0, gradA, a, g.kernelA), (1, gradB, b, g.kernelB)] {
            guard let grad else { continue }
            if dims == g.kernelOutput {
                let rows = BroadcastRows(g)
                try launch(
                    try kernel("binary_backward_rows", in: "elementwise.cl",
                               defineList: [("OP", opCode(op)), ("SIDE", side)] + rows.defines),
                    global: rows.global,
                    arguments: [.buffer(gradOutput.buffer), .buffer(a.buffer), .buffer(b.buffer), .buffer(grad.buffer)]
                        + rows.sizes,
                    cost: OpCost(flops: g.output.count, bytes: OpCost.traffic(g.output.count, g.output.count, own.shape.count)))
                continue
            }
            let sizes = g.kernelOutput + dims + strides
            try launch(
                try kernel("binary_backward", in: "elementwise.cl", defines: ["OP": opCode(op), "SIDE": side]),
                global: [own.shape.count],
                arguments: [.buffer(gradOutput.buffer), .buffer(a.buffer), .buffer(b.buffer), .buffer(grad.buffer)]
                    + sizes.map { .int($0) },
                cost: OpCost(flops: g.output.count, bytes: OpCost.traffic(g.output.count, g.output.count, own.shape.count)))
        }
    }

    private func opCode(_ op: BinaryOp) -> Int {
        switch op {
        case .add: 0
        case .sub: 1
        case .mul: 2
        case .div: 3
        }
    }

    public func channelAffineForward(
        _ checked: Checked<TensorShape>, input: Tensor, scale: Tensor, shift: Tensor, output: Tensor
    ) throws {
        try launchChannelAffine(input, scale: scale, shift: shift, output: output)
    }

    public func channelAffineBackward(
        _ checked: Checked<TensorShape>, gradOutput: Tensor, scale: Tensor, gradInput: Tensor
    ) throws {
        try launchChannelAffine(gradOutput, scale: scale, shift: nil, output: gradInput)
    }

    /// The affine kernel serves both directions: the backward pass is the forward without the shift.
    private func launchChannelAffine(_ input: Tensor, scale: Tensor, shift: Tensor?, output: Tensor) throws {
        let shape = input.shape
        try launch(
            try kernel("channel_affine_forward", in: "elementwise.cl", defines: ["HAS_SHIFT": shift == nil ? 0 : 1]),
            global: [shape.count],
            arguments: [.buffer(input.buffer), .buffer(scale.buffer), shift.map { .buffer($0.buffer) } ?? .null,
                        .buffer(output.buffer), .int(shape.count), .int(shape[1]),
                        .int(shape.count / (shape[0] * shape[1]))],
            cost: OpCost.channelAffine(shape))
    }

    /// A softmax over the last axis (INNER 1) runs the row kernels, 8 columns at a time; one along another axis
    /// reads its group INNER apart.
    public func softmaxForward(_ checked: Checked<SoftmaxGeometry>, input: Tensor, output: Tensor) throws {
        let g = checked.geometry
        if g.inner == 1 {
            return try launch(
                try kernel("softmax_rows_forward", in: "elementwise.cl"), global: [g.outer],
                arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(g.outer), .int(g.extent)],
                cost: OpCost.softmax(input.shape, backward: false))
        }
        try launch(
            try kernel("softmax_forward", in: "elementwise.cl"), global: [g.outer * g.inner],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(g.outer * g.inner), .int(g.extent),
                        .int(g.inner)],
            cost: OpCost.softmax(input.shape, backward: false))
    }

    public func softmaxBackward(
        _ checked: Checked<SoftmaxGeometry>, output: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        let g = checked.geometry
        if g.inner == 1 {
            return try launch(
                try kernel("softmax_rows_backward", in: "elementwise.cl"), global: [g.outer],
                arguments: [.buffer(output.buffer), .buffer(gradOutput.buffer), .buffer(gradInput.buffer),
                            .int(g.outer), .int(g.extent)],
                cost: OpCost.softmax(output.shape, backward: true))
        }
        try launch(
            try kernel("softmax_backward", in: "elementwise.cl"), global: [g.outer * g.inner],
            arguments: [.buffer(output.buffer), .buffer(gradOutput.buffer), .buffer(gradInput.buffer),
                        .int(g.outer * g.inner), .int(g.extent), .int(g.inner)],
            cost: OpCost.softmax(output.shape, backward: true))
    }
}

/// How elementwise.cl's row kernels (`binary_forward_rows`, `binary_backward_rows`) cover a broadcast: a run of
/// `run` elements of the output's last axis per work-item, one row per output position over the leading axes.
private struct BroadcastRows {
    let run = 256
    let dims: [Int]
    let aStrides: [Int]
    let bStrides: [Int]

    init(_ g: BroadcastGeometry) {
        (dims, aStrides, bStrides) = (g.kernelOutput, g.kernelStrides(g.kernelA), g.kernelStrides(g.kernelB))
    }

    /// The run length and each operand's last-axis stride (0 or 1), which the kernels take as defines.
    var defines: [(String, Int)] { [("RUN", run), ("A_STEP", aStrides[3]), ("B_STEP", bStrides[3])] }
    var global: [Int] { [(dims[3] + run - 1) / run, dims[0] * dims[1] * dims[2]] }
    /// D0…D3, then each operand's strides over the leading three axes.
    var sizes: [KernelArgument] { (dims + aStrides.prefix(3) + bStrides.prefix(3)).map { .int($0) } }
}
