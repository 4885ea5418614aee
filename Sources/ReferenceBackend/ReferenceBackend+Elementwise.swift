import TensorOps

extension ReferenceBackend {
    public func binaryForward(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, output: Tensor) throws {
        let g = try checkBinary(op, a: a.shape, b: b.shape, output: output.shape)
        output.store(ReferenceMath.binaryForward(op, a.doubles, b.doubles, g))
    }

    public func binaryBackward(
        _ op: BinaryOp, a: Tensor, b: Tensor, gradOutput: Tensor, gradA: Tensor?, gradB: Tensor?
    ) throws {
        let g = try checkBinaryBackward(
            op, a: a.shape, b: b.shape, gradOutput: gradOutput.shape, gradA: gradA?.shape, gradB: gradB?.shape)
        let grads = ReferenceMath.binaryBackward(op, a.doubles, b.doubles, gradOutput: gradOutput.doubles, g)
        gradA?.store(grads.a)
        gradB?.store(grads.b)
    }

    public func channelAffineForward(input: Tensor, scale: Tensor, shift: Tensor, output: Tensor) throws {
        try checkChannelAffine(input: input.shape, scale: scale.shape, shift: shift.shape, output: output.shape)
        output.store(
            ReferenceMath.channelAffineForward(
                input: input.doubles, scale: scale.doubles, shift: shift.doubles, shape: input.shape))
    }

    public func channelAffineBackward(gradOutput: Tensor, scale: Tensor, gradInput: Tensor) throws {
        try checkChannelAffine(input: gradOutput.shape, scale: scale.shape, shift: nil, output: gradInput.shape)
        let zeros = [Double](repeating: 0, count: scale.shape.count)
        gradInput.store(
            ReferenceMath.channelAffineForward(
                input: gradOutput.doubles, scale: scale.doubles, shift: zeros, shape: gradOutput.shape))
    }

    public func softmaxForward(input: Tensor, output: Tensor) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: "softmax")
        output.store(ReferenceMath.softmaxForward(input: input.doubles, shape: input.shape))
    }

    public func softmaxBackward(output: Tensor, gradOutput: Tensor, gradInput: Tensor) throws {
        try checkSameShapes(
            [output.shape, gradOutput.shape, gradInput.shape], roles: ["output", "gradOutput", "gradInput"],
            of: "softmax")
        gradInput.store(
            ReferenceMath.softmaxBackward(output: output.doubles, gradOutput: gradOutput.doubles, shape: output.shape))
    }
}
