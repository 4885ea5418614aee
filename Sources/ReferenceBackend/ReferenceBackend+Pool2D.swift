import TensorOps

extension ReferenceBackend {
    public func maxPool2dForward(
        _ checked: Checked<Pool2DGeometry>, input: Tensor, output: Tensor, argmax: IndexTensor,
        parameters: Pool2DParameters
    ) throws {
        let g = checked.geometry
        let result = ReferenceMath.maxPool2dForward(input: input.doubles, g)
        output.store(result.output)
        argmax.values = result.argmax
    }

    public func maxPool2dBackward(
        _ checked: Checked<Pool2DGeometry>, gradOutput: Tensor, argmax: IndexTensor, gradInput: Tensor,
        parameters: Pool2DParameters
    ) throws {
        let g = checked.geometry
        gradInput.store(ReferenceMath.maxPool2dBackward(gradOutput: gradOutput.doubles, argmax: argmax.values, g))
    }

    public func avgPool2dForward(
        _ checked: Checked<Pool2DGeometry>, input: Tensor, output: Tensor, parameters: Pool2DParameters
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.avgPool2dForward(input: input.doubles, g))
    }

    public func avgPool2dBackward(
        _ checked: Checked<Pool2DGeometry>, gradOutput: Tensor, gradInput: Tensor, parameters: Pool2DParameters
    ) throws {
        let g = checked.geometry
        gradInput.store(ReferenceMath.avgPool2dBackward(gradOutput: gradOutput.doubles, g))
    }

    public func globalAvgPool2dForward(_ checked: Checked<TensorShape>, input: Tensor, output: Tensor) throws {
        output.store(ReferenceMath.globalAvgPool2dForward(input: input.doubles, shape: input.shape))
    }

    public func globalAvgPool2dBackward(_ checked: Checked<TensorShape>, gradOutput: Tensor, gradInput: Tensor) throws {
        gradInput.store(ReferenceMath.globalAvgPool2dBackward(gradOutput: gradOutput.doubles, inputShape: gradInput.shape))
    }
}
