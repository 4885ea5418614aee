import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func activationForward(_ activation: Activation, input: Tensor, output: Tensor) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: activation.name)
        try launch(
            try kernel("\(activation.name)_forward", in: "activation.cl"), global: [input.shape.count],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(input.shape.count)]
                + activationArguments(activation),
            cost: OpCost.activation(count: input.shape.count, backward: false))
    }

    public func activationBackward(
        _ activation: Activation, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        try checkSameShapes(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"],
            of: activation.name)
        try launch(
            try kernel("\(activation.name)_backward", in: "activation.cl"), global: [input.shape.count],
            arguments: [.buffer(input.buffer), .buffer(gradOutput.buffer), .buffer(gradInput.buffer),
                        .int(input.shape.count)] + activationArguments(activation),
            cost: OpCost.activation(count: input.shape.count, backward: true))
    }

    public func reluBackward(_ rule: ReLUGradient, input: Tensor, gradOutput: Tensor, gradInput: Tensor) throws {
        guard rule != .standard else {
            return try activationBackward(.relu, input: input, gradOutput: gradOutput, gradInput: gradInput)
        }
        try checkSameShapes(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"], of: "relu")
        try launch(
            try kernel("relu_\(rule.rawValue)_backward", in: "activation.cl"), global: [input.shape.count],
            arguments: [.buffer(input.buffer), .buffer(gradOutput.buffer), .buffer(gradInput.buffer),
                        .int(input.shape.count)],
            cost: OpCost.activation(count: input.shape.count, backward: true))
    }

    /// The trailing scalar arguments of each activation kernel.
    private func activationArguments(_ activation: Activation) -> [KernelArgument] {
        switch activation {
        case .relu, .sigmoid: []
        case .leakyReLU(let alpha): [.float(alpha)]
        case .clip(let low, let high): [.float(low), .float(high)]
        }
    }

    public func linearForward(input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor)
        throws
    {
        let g = try checkLinear(input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape)
        try launch(
            try kernel("linear_forward", in: "linear.cl",
                       defines: ["HAS_BIAS": bias == nil ? 0 : 1, "VW": min(matmulTiling.vectorWidth, 16)]),
            global: [g.outFeatures, g.batch],
            arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                        .buffer(output.buffer)] + linearSizes(g),
            cost: g.forwardCost(hasBias: bias != nil))
    }

    /// dx = dy · W: a matrix product (m batch, n IN, k OUT) over W's rows as they are stored.
    public func linearBackwardInput(gradOutput: Tensor, weight: Tensor, gradInput: Tensor) throws {
        let g = try checkLinear(input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape)
        try matmul(
            MatrixView(buffer: gradOutput.buffer, rowStride: g.outFeatures),
            MatrixView(buffer: weight.buffer, rowStride: g.inFeatures),
            into: MatrixView(buffer: gradInput.buffer, rowStride: g.inFeatures),
            m: g.batch, n: g.inFeatures, k: g.outFeatures)
    }

    /// dW = dyᵀ · x: a matrix product (m OUT, n IN, k batch) reading dy transposed.
    public func linearBackwardWeight(
        gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?
    ) throws {
        let g = try checkLinear(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape)
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
