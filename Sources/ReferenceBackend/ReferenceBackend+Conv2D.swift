import TensorOps

extension ReferenceBackend {
    /// The epilogue as its definition says, in Double: the sum with the residual, then the activation.
    public func conv2dForward(
        _ checked: Checked<Conv2DGeometry>, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor,
        parameters: Conv2DParameters, epilogue: ConvEpilogue, residual: Tensor?
    ) throws {
        let g = checked.geometry
        var y = ReferenceMath.conv2dForward(input: input.doubles, weight: weight.doubles, bias: bias?.doubles, g)
        if let residual { y = zip(y, residual.doubles).map(+) }
        if let activation = epilogue.activation { y = ReferenceMath.activationForward(activation, input: y) }
        output.store(y)
    }

    public func conv2dBackwardInput(
        _ checked: Checked<Conv2DGeometry>, gradOutput: Tensor, weight: Tensor, gradInput: Tensor,
        parameters: Conv2DParameters
    ) throws {
        let g = checked.geometry
        gradInput.store(ReferenceMath.conv2dBackwardInput(gradOutput: gradOutput.doubles, weight: weight.doubles, g))
    }

    public func conv2dBackwardWeight(
        _ checked: Checked<Conv2DGeometry>, gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?,
        parameters: Conv2DParameters
    ) throws {
        let g = checked.geometry
        let (dw, db) = ReferenceMath.conv2dBackwardWeight(gradOutput: gradOutput.doubles, input: input.doubles, g)
        gradWeight.store(dw)
        gradBias?.store(db)
    }
}
