import TensorOps

extension ReferenceBackend {
    public func conv2dForward(
        input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape,
            parameters: parameters)
        output.store(ReferenceMath.conv2dForward(input: input.doubles, weight: weight.doubles, bias: bias?.doubles, g))
    }

    public func conv2dBackwardInput(
        gradOutput: Tensor, weight: Tensor, gradInput: Tensor,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape,
            parameters: parameters)
        gradInput.store(ReferenceMath.conv2dBackwardInput(gradOutput: gradOutput.doubles, weight: weight.doubles, g))
    }

    public func conv2dBackwardWeight(
        gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape,
            parameters: parameters)
        let (dw, db) = ReferenceMath.conv2dBackwardWeight(gradOutput: gradOutput.doubles, input: input.doubles, g)
        gradWeight.store(dw)
        gradBias?.store(db)
    }

    public func maxPool2dForward(
        input: Tensor, output: Tensor, argmax: IndexTensor, parameters: Pool2DParameters
    ) throws {
        let g = try checkPool2d(
            .max, input: input.shape, output: output.shape, argmax: argmax.shape, parameters: parameters)
        let result = ReferenceMath.maxPool2dForward(input: input.doubles, g)
        output.store(result.output)
        argmax.values = result.argmax
    }

    public func maxPool2dBackward(
        gradOutput: Tensor, argmax: IndexTensor, gradInput: Tensor,
        parameters: Pool2DParameters
    ) throws {
        let g = try checkPool2d(
            .max, input: gradInput.shape, output: gradOutput.shape, argmax: argmax.shape, parameters: parameters)
        gradInput.store(ReferenceMath.maxPool2dBackward(gradOutput: gradOutput.doubles, argmax: argmax.values, g))
    }

    public func avgPool2dForward(input: Tensor, output: Tensor, parameters: Pool2DParameters) throws {
        let g = try checkPool2d(.average, input: input.shape, output: output.shape, parameters: parameters)
        output.store(ReferenceMath.avgPool2dForward(input: input.doubles, g))
    }

    public func avgPool2dBackward(
        gradOutput: Tensor, gradInput: Tensor, parameters: Pool2DParameters
    ) throws {
        let g = try checkPool2d(.average, input: gradInput.shape, output: gradOutput.shape, parameters: parameters)
        gradInput.store(ReferenceMath.avgPool2dBackward(gradOutput: gradOutput.doubles, g))
    }

    public func globalAvgPool2dForward(input: Tensor, output: Tensor) throws {
        try checkGlobalAvgPool2d(input: input.shape, output: output.shape)
        output.store(ReferenceMath.globalAvgPool2dForward(input: input.doubles, shape: input.shape))
    }

    public func globalAvgPool2dBackward(gradOutput: Tensor, gradInput: Tensor) throws {
        try checkGlobalAvgPool2d(input: gradInput.shape, output: gradOutput.shape)
        gradInput.store(ReferenceMath.globalAvgPool2dBackward(gradOutput: gradOutput.doubles, inputShape: gradInput.shape))
    }

    public func activationForward(_ activation: Activation, input: Tensor, output: Tensor) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: activation.name)
        output.store(ReferenceMath.activationForward(activation, input: input.doubles))
    }

    public func activationBackward(
        _ activation: Activation, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        try checkSameShapes(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"],
            of: activation.name)
        gradInput.store(ReferenceMath.activationBackward(activation, input: input.doubles, gradOutput: gradOutput.doubles))
    }

    public func reluBackward(_ rule: ReLUGradient, input: Tensor, gradOutput: Tensor, gradInput: Tensor) throws {
        try checkSameShapes(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"], of: "relu")
        gradInput.store(zip(input.doubles, gradOutput.doubles).map { x, dy in
            switch rule {
            case .standard: x > 0 ? dy : 0
            case .guided: x > 0 ? max(dy, 0) : 0
            case .deconvnet: max(dy, 0)
            }
        })
    }

    public func linearForward(
        input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor
    ) throws {
        let g = try checkLinear(input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape)
        output.store(ReferenceMath.linearForward(input: input.doubles, weight: weight.doubles, bias: bias?.doubles, g))
    }

    public func linearBackwardInput(
        gradOutput: Tensor, weight: Tensor, gradInput: Tensor
    ) throws {
        let g = try checkLinear(input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape)
        gradInput.store(ReferenceMath.linearBackwardInput(gradOutput: gradOutput.doubles, weight: weight.doubles, g))
    }

    public func linearBackwardWeight(
        gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?
    ) throws {
        let g = try checkLinear(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape)
        let (dw, db) = ReferenceMath.linearBackwardWeight(gradOutput: gradOutput.doubles, input: input.doubles, g)
        gradWeight.store(dw)
        gradBias?.store(db)
    }
}
