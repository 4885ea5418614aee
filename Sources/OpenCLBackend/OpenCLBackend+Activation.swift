import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func activationForward(
        _ checked: Checked<TensorShape>, _ activation: Activation, input: Tensor, output: Tensor
    ) throws {
        try launch(
            try kernel("\(activation.name)_forward", in: "activation.cl"), global: [input.shape.count],
            arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(input.shape.count)]
                + activationArguments(activation),
            cost: OpCost.activation(count: input.shape.count, backward: false))
    }

    public func activationBackward(
        _ checked: Checked<TensorShape>, _ activation: Activation, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        try launch(
            try kernel("\(activation.name)_backward", in: "activation.cl"), global: [input.shape.count],
            arguments: [.buffer(input.buffer), .buffer(gradOutput.buffer), .buffer(gradInput.buffer),
                        .int(input.shape.count)] + activationArguments(activation),
            cost: OpCost.activation(count: input.shape.count, backward: true))
    }

    public func reluBackward(
        _ checked: Checked<TensorShape>, _ rule: ReLUGradient, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        guard rule != .standard else {
            return try activationBackward(checked, .relu, input: input, gradOutput: gradOutput, gradInput: gradInput)
        }
        try launch(
            try kernel("relu_\(rule.rawValue)_backward", in: "activation.cl"), global: [input.shape.count],
            arguments: [.buffer(input.buffer), .buffer(gradOutput.buffer), .buffer(gradInput.buffer),
                        .int(input.shape.count)],
            cost: OpCost.activation(count: input.shape.count, backward: true))
    }

    /// The trailing scalar arguments of each activation kernel.
    private func activationArguments(_ activation: Activation) -> [KernelArgument] {
        switch activation {
        case .relu, .sigmoid, .silu, .hardSwish, .gelu, .erf, .negate, .tanh, .abs: []
        case .hardSigmoid(let alpha, let beta): [.float(alpha), .float(beta)]
        case .power(let exponent): [.float(exponent)]
        case .leakyReLU(let alpha): [.float(alpha)]
        case .clip(let low, let high): [.float(low), .float(high)]
        }
    }
}
