import TensorOps

extension ReferenceBackend {
    public func conv2dForward(
        input: ReferenceTensor, weight: ReferenceTensor, bias: ReferenceTensor?, output: ReferenceTensor,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape,
            parameters: parameters)
        output.store(ReferenceMath.conv2dForward(input: input.doubles, weight: weight.doubles, bias: bias?.doubles, g))
    }

    public func conv2dBackwardInput(
        gradOutput: ReferenceTensor, weight: ReferenceTensor, gradInput: ReferenceTensor,
        parameters: Conv2DParameters
    ) throws {
        let g = try checkConv2d(
            input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape,
            parameters: parameters)
        gradInput.store(ReferenceMath.conv2dBackwardInput(gradOutput: gradOutput.doubles, weight: weight.doubles, g))
    }

    public func conv2dBackwardWeight(
        gradOutput: ReferenceTensor, input: ReferenceTensor, gradWeight: ReferenceTensor, gradBias: ReferenceTensor?,
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
        input: ReferenceTensor, output: ReferenceTensor, argmax: ReferenceIndexTensor, parameters: Pool2DParameters
    ) throws {
        let g = try checkPool2d(
            .max, input: input.shape, output: output.shape, argmax: argmax.shape, parameters: parameters)
        let result = ReferenceMath.maxPool2dForward(input: input.doubles, g)
        output.store(result.output)
        argmax.values = result.argmax
    }

    public func maxPool2dBackward(
        gradOutput: ReferenceTensor, argmax: ReferenceIndexTensor, gradInput: ReferenceTensor,
        parameters: Pool2DParameters
    ) throws {
        let g = try checkPool2d(
            .max, input: gradInput.shape, output: gradOutput.shape, argmax: argmax.shape, parameters: parameters)
        gradInput.store(ReferenceMath.maxPool2dBackward(gradOutput: gradOutput.doubles, argmax: argmax.values, g))
    }

    public func avgPool2dForward(input: ReferenceTensor, output: ReferenceTensor, parameters: Pool2DParameters) throws {
        let g = try checkPool2d(.average, input: input.shape, output: output.shape, parameters: parameters)
        output.store(ReferenceMath.avgPool2dForward(input: input.doubles, g))
    }

    public func avgPool2dBackward(
        gradOutput: ReferenceTensor, gradInput: ReferenceTensor, parameters: Pool2DParameters
    ) throws {
        let g = try checkPool2d(.average, input: gradInput.shape, output: gradOutput.shape, parameters: parameters)
        gradInput.store(ReferenceMath.avgPool2dBackward(gradOutput: gradOutput.doubles, g))
    }

    public func globalAvgPool2dForward(input: ReferenceTensor, output: ReferenceTensor) throws {
        try checkGlobalAvgPool2d(input: input.shape, output: output.shape)
        output.store(ReferenceMath.globalAvgPool2dForward(input: input.doubles, shape: input.shape))
    }

    public func globalAvgPool2dBackward(gradOutput: ReferenceTensor, gradInput: ReferenceTensor) throws {
        try checkGlobalAvgPool2d(input: gradInput.shape, output: gradOutput.shape)
        gradInput.store(ReferenceMath.globalAvgPool2dBackward(gradOutput: gradOutput.doubles, inputShape: gradInput.shape))
    }

    public func activationForward(_ activation: Activation, input: ReferenceTensor, output: ReferenceTensor) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: activation.name)
        output.store(ReferenceMath.activationForward(activation, input: input.doubles))
    }

    public func activationBackward(
        _ activation: Activation, input: ReferenceTensor, gradOutput: ReferenceTensor, gradInput: ReferenceTensor
    ) throws {
        try checkSameShapes(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"],
            of: activation.name)
        gradInput.store(ReferenceMath.activationBackward(activation, input: input.doubles, gradOutput: gradOutput.doubles))
    }

    public func linearForward(
        input: ReferenceTensor, weight: ReferenceTensor, bias: ReferenceTensor?, output: ReferenceTensor
    ) throws {
        let g = try checkLinear(input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape)
        output.store(ReferenceMath.linearForward(input: input.doubles, weight: weight.doubles, bias: bias?.doubles, g))
    }

    public func linearBackwardInput(
        gradOutput: ReferenceTensor, weight: ReferenceTensor, gradInput: ReferenceTensor
    ) throws {
        let g = try checkLinear(input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape)
        gradInput.store(ReferenceMath.linearBackwardInput(gradOutput: gradOutput.doubles, weight: weight.doubles, g))
    }

    public func linearBackwardWeight(
        gradOutput: ReferenceTensor, input: ReferenceTensor, gradWeight: ReferenceTensor, gradBias: ReferenceTensor?
    ) throws {
        let g = try checkLinear(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape)
        let (dw, db) = ReferenceMath.linearBackwardWeight(gradOutput: gradOutput.doubles, input: input.doubles, g)
        gradWeight.store(dw)
        gradBias?.store(db)
    }

    public func addForward(_ a: ReferenceTensor, _ b: ReferenceTensor, output: ReferenceTensor) throws {
        try checkSameShapes([a.shape, b.shape, output.shape], roles: ["a", "b", "output"], of: "add")
        output.store(zip(a.doubles, b.doubles).map(+))
    }

    public func addBackward(gradOutput: ReferenceTensor, gradA: ReferenceTensor, gradB: ReferenceTensor) throws {
        try checkSameShapes(
            [gradOutput.shape, gradA.shape, gradB.shape], roles: ["gradOutput", "gradA", "gradB"], of: "add")
        gradA.values = gradOutput.values
        gradB.values = gradOutput.values
    }

    public func concatForward(_ inputs: [ReferenceTensor], output: ReferenceTensor) throws {
        let g = try checkConcat(inputs: inputs.map(\.shape), output: output.shape)
        output.store(ReferenceMath.concatForward(inputs.map(\.doubles), g))
    }

    public func concatBackward(gradOutput: ReferenceTensor, gradInputs: [ReferenceTensor]) throws {
        let g = try checkConcat(inputs: gradInputs.map(\.shape), output: gradOutput.shape)
        for (tensor, values) in zip(gradInputs, ReferenceMath.concatBackward(gradOutput: gradOutput.doubles, g)) {
            tensor.store(values)
        }
    }
}
