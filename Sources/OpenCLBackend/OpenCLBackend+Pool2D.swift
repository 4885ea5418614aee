import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func maxPool2dForward(
        _ checked: Checked<Pool2DGeometry>, input: Tensor, output: Tensor, argmax: IndexTensor,
        parameters: Pool2DParameters
    ) throws {
        let g = checked.geometry
        try launch(
            try pool2dKernel("max_pool2d_forward", g), global: [g.outHeight, g.planes],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .buffer(argmax.buffer)] + pool2dSizes(g),
            cost: g.forwardCost)
    }

    public func maxPool2dBackward(
        _ checked: Checked<Pool2DGeometry>, gradOutput: Tensor, argmax: IndexTensor, gradInput: Tensor,
        parameters: Pool2DParameters
    ) throws {
        let g = checked.geometry
        try launch(
            try pool2dKernel("max_pool2d_backward", g), global: [g.inHeight, g.planes],
            arguments: [.buffer(gradOutput.buffer), .buffer(argmax.buffer), .buffer(gradInput.buffer)]
                + pool2dSizes(g),
            cost: g.backwardCost)
    }

    public func avgPool2dForward(
        _ checked: Checked<Pool2DGeometry>, input: Tensor, output: Tensor, parameters: Pool2DParameters
    ) throws {
        let g = checked.geometry
        try launch(
            try pool2dKernel("avg_pool2d_forward", g), global: [g.outWidth, g.outHeight, g.planes],
            arguments: [.buffer(input.buffer), .buffer(output.buffer)] + pool2dSizes(g), cost: g.forwardCost)
    }

    public func avgPool2dBackward(_ checked: Checked<Pool2DGeometry>, gradOutput: Tensor, gradInput: Tensor, parameters: Pool2DParameters)
        throws
    {
        let g = checked.geometry
        try launch(
            try pool2dKernel("avg_pool2d_backward", g), global: [g.inWidth, g.inHeight, g.planes],
            arguments: [.buffer(gradOutput.buffer), .buffer(gradInput.buffer)] + pool2dSizes(g), cost: g.backwardCost)
    }

    public func globalAvgPool2dForward(_ checked: Checked<TensorShape>, input: Tensor, output: Tensor) throws {
        let planes = input.shape[0] * input.shape[1]
        try launch(
            try kernel("global_avg_pool2d_forward", in: "pool2d.cl"), global: [planes],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(planes), .int(input.shape[2] * input.shape[3])],
            cost: OpCost.globalAvgPool2d(input: input.shape, backward: false))
    }

    public func globalAvgPool2dBackward(_ checked: Checked<TensorShape>, gradOutput: Tensor, gradInput: Tensor) throws {
        let planes = gradInput.shape[0] * gradInput.shape[1]
        let planeSize = gradInput.shape[2] * gradInput.shape[3]
        try launch(
            try kernel("global_avg_pool2d_backward", in: "pool2d.cl"), global: [planeSize, planes],
            arguments: [.buffer(gradOutput.buffer), .buffer(gradInput.buffer), .int(planes), .int(planeSize)],
            cost: OpCost.globalAvgPool2d(input: gradInput.shape, backward: true))
    }

    /// Pooling kernels share one program per window shape and padding mode.
    private func pool2dKernel(_ name: String, _ g: Pool2DGeometry) throws -> Kernel {
        let p = g.parameters
        return try kernel(
            name, in: "pool2d.cl",
            defines: [
                "KH": p.kernel.height, "KW": p.kernel.width, "SH": p.stride.height, "SW": p.stride.width,
                "DH": p.dilation.height, "DW": p.dilation.width, "PT": p.padding.top, "PL": p.padding.left,
                "PB": p.padding.bottom, "PR": p.padding.right, "COUNT_INCLUDE_PAD": p.countIncludePad ? 1 : 0,
            ])
    }

    /// PLANES, H, W, OH, OW.
    private func pool2dSizes(_ g: Pool2DGeometry) -> [KernelArgument] {
        [g.planes, g.inHeight, g.inWidth, g.outHeight, g.outWidth].map { .int($0) }
    }
}
