import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func activationForward(_ activation: Activation, input: Tensor, output: Tensor) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: activation.name)
        try launch(
            try kernel("\(activation.name)_forward", in: "activation.cl"), global: [input.shape.count],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(input.shape.count)]
                + activationArguments(activation))
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
                        .int(input.shape.count)] + activationArguments(activation))
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
                        .int(input.shape.count)])
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
            try kernel("linear_forward", in: "linear.cl", defines: ["HAS_BIAS": bias == nil ? 0 : 1]),
            global: [g.outFeatures, g.batch],
            arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                        .buffer(output.buffer)] + linearSizes(g))
    }

    public func linearBackwardInput(gradOutput: Tensor, weight: Tensor, gradInput: Tensor) throws {
        let g = try checkLinear(input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape)
        try launch(
            try kernel("linear_backward_input", in: "linear.cl"), global: [g.inFeatures, g.batch],
            arguments: [.buffer(gradOutput.buffer), .buffer(weight.buffer), .buffer(gradInput.buffer)]
                + linearSizes(g))
    }

    public func linearBackwardWeight(
        gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?
    ) throws {
        let g = try checkLinear(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape)
        try launch(
            try kernel("linear_backward_weight", in: "linear.cl"), global: [g.inFeatures, g.outFeatures],
            arguments: [.buffer(gradOutput.buffer), .buffer(input.buffer), .buffer(gradWeight.buffer)]
                + linearSizes(g))
        if let gradBias {
            try launch(
                try kernel("linear_backward_bias", in: "linear.cl"), global: [g.outFeatures],
                arguments: [.buffer(gradOutput.buffer), .buffer(gradBias.buffer), .int(g.batch), .int(g.outFeatures)])
        }
    }

    /// N, IN, OUT.
    private func linearSizes(_ g: LinearGeometry) -> [KernelArgument] {
        [.int(g.batch), .int(g.inFeatures), .int(g.outFeatures)]
    }
}
