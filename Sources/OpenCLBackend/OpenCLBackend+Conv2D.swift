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
        let block = channelBlock(g.outChannelsPerGroup)
        let kernel = try conv2dKernel("conv2d_forward", g, hasBias: bias != nil, block: block)
        try launch(
            kernel, global: [g.outWidth, g.outHeight, g.batch * g.outChannels / block],
            arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                        .buffer(output.buffer)] + conv2dSizes(g))
    }

    public func conv2dBackwardInput(
        gradOutput: Tensor, weight: Tensor, gradInput: Tensor, parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape,
            parameters: parameters)
        let block = channelBlock(g.inChannelsPerGroup)
        try launch(
            try conv2dKernel("conv2d_backward_input", g, hasBias: false, block: block),
            global: [g.inWidth, g.inHeight, g.batch * g.inChannels / block],
            arguments: [.buffer(gradOutput.buffer), .buffer(weight.buffer), .buffer(gradInput.buffer)]
                + conv2dSizes(g))
    }

    public func conv2dBackwardWeight(
        gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape,
            parameters: parameters)
        try launch(
            try conv2dKernel("conv2d_backward_weight", g, hasBias: false),
            global: [g.kernelHeight * g.kernelWidth, g.inChannelsPerGroup, g.outChannels],
            arguments: [.buffer(gradOutput.buffer), .buffer(input.buffer), .buffer(gradWeight.buffer)]
                + conv2dSizes(g))
        if let gradBias {
            try launch(
                try conv2dKernel("conv2d_backward_bias", g, hasBias: true), global: [g.outChannels],
                arguments: [.buffer(gradOutput.buffer), .buffer(gradBias.buffer), .int(g.batch),
                            .int(g.outChannels), .int(g.outHeight), .int(g.outWidth)])
        }
    }

    /// Channels per work-item: the largest of 8, 4, 2, 1 that divides the channels of a group.
    private func channelBlock(_ channelsPerGroup: Int) -> Int {
        [8, 4, 2, 1].first { channelsPerGroup % $0 == 0 } ?? 1
    }

    /// The conv kernels share one program per geometry and block: the window shape is compiled in, sizes are not.
    private func conv2dKernel(_ name: String, _ g: Conv2DGeometry, hasBias: Bool, block: Int = 1) throws -> Kernel {
        let p = g.parameters
        return try kernel(
            name, in: "conv2d.cl",
            defines: [
                "KH": g.kernelHeight, "KW": g.kernelWidth, "SH": p.stride.height, "SW": p.stride.width,
                "DH": p.dilation.height, "DW": p.dilation.width, "PT": p.padding.top, "PL": p.padding.left,
                "GROUPS": p.groups, "HAS_BIAS": hasBias ? 1 : 0, "BLOCK": block,
            ])
    }

    /// The size arguments every conv kernel but the bias gradient takes: N, C, H, W, COUT, OH, OW.
    private func conv2dSizes(_ g: Conv2DGeometry) -> [KernelArgument] {
        [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.outHeight, g.outWidth].map { .int($0) }
    }
}
