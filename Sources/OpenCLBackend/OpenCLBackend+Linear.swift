import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func linearForward(_ checked: Checked<LinearGeometry>, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor)
        throws
    {
        let g = checked.geometry
        try launch(
            try kernel("linear_forward", in: "linear.cl",
                       defines: ["HAS_BIAS": bias == nil ? 0 : 1, "VW": min(matmulTiling.vectorWidth, 16)]),
            global: [g.outFeatures, g.batch],
            arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                        .buffer(output.buffer)] + linearSizes(g),
            cost: g.forwardCost(hasBias: bias != nil))
    }

    /// dx = dy · W: a matrix product (m batch, n IN, k OUT) over W's rows as they are stored.
    public func linearBackwardInput(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, weight: Tensor, gradInput: Tensor
    ) throws {
        let g = checked.geometry
        try matmul(
            MatrixView(buffer: gradOutput.buffer, rowStride: g.outFeatures),
            MatrixView(buffer: weight.buffer, rowStride: g.inFeatures),
            into: MatrixView(buffer: gradInput.buffer, rowStride: g.inFeatures),
            m: g.batch, n: g.inFeatures, k: g.outFeatures)
    }

    /// dW = dyᵀ · x: a matrix product (m OUT, n IN, k batch) reading dy transposed.
    public func linearBackwardWeight(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?
    ) throws {
        let g = checked.geometry
        try matmul(
            MatrixView(buffer: gradOutput.buffer, rowStride: g.outFeatures), transposedA: true,
            MatrixView(buffer: input.buffer, rowStride: g.inFeatures),
            into: MatrixView(buffer: gradWeight.buffer, rowStride: g.inFeatures),
            m: g.outFeatures, n: g.inFeatures, k: g.batch)
        if let gradBias {
            try launch(
                try kernel("linear_backward_bias", in: "linear.cl"), global: [g.outFeatures],
                arguments: [.buffer(gradOutput.buffer), .buffer(gradBias.buffer), .int(g.batch), .int(g.outFeatures)],
                cost: OpCost(flops: g.output.count, bytes: OpCost.traffic(g.output.count, g.outFeatures)))
        }
    }

    /// N, IN, OUT.
    private func linearSizes(_ g: LinearGeometry) -> [KernelArgument] {
        [.int(g.batch), .int(g.inFeatures), .int(g.outFeatures)]
    }
}
