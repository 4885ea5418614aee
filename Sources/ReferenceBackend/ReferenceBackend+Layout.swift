import TensorOps

extension ReferenceBackend {
    public func concatForward(_ inputs: [Tensor], output: Tensor) throws {
        let g = try checkConcat(inputs: inputs.map(\.shape), output: output.shape)
        output.store(ReferenceMath.concatForward(inputs.map(\.doubles), g))
    }

    public func concatBackward(gradOutput: Tensor, gradInputs: [Tensor]) throws {
        let g = try checkConcat(inputs: gradInputs.map(\.shape), output: gradOutput.shape)
        for (tensor, values) in zip(gradInputs, ReferenceMath.concatBackward(gradOutput: gradOutput.doubles, g)) {
            tensor.store(values)
        }
    }

    public func pad2dForward(input: Tensor, output: Tensor, padding: Padding2D, value: Float) throws {
        let g = try checkPad2d(input: input.shape, output: output.shape, padding: padding)
        output.store(ReferenceMath.pad2dForward(input: input.doubles, value: Double(value), g))
    }

    public func pad2dBackward(gradOutput: Tensor, gradInput: Tensor, padding: Padding2D) throws {
        let g = try checkPad2d(input: gradInput.shape, output: gradOutput.shape, padding: padding)
        gradInput.store(ReferenceMath.pad2dBackward(gradOutput: gradOutput.doubles, g))
    }

    public func transpose2d(input: Tensor, output: Tensor) throws {
        try checkTranspose2d(input: input.shape, output: output.shape)
        output.store(ReferenceMath.transpose2d(input: input.doubles, rows: input.shape[0], columns: input.shape[1]))
    }
}
