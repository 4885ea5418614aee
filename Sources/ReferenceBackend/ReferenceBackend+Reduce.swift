import TensorOps

extension ReferenceBackend {
    public func reduceForward(_ checked: Checked<ReduceGeometry>, _ op: Reduction, input: Tensor, output: Tensor) throws {
        output.store(ReferenceMath.reduceForward(op, input: input.doubles, checked.geometry))
    }

    public func reduceBackward(
        _ checked: Checked<ReduceGeometry>, _ op: Reduction, input: Tensor, output: Tensor, gradOutput: Tensor,
        gradInput: Tensor
    ) throws {
        gradInput.store(ReferenceMath.reduceBackward(op, input: input.doubles, output: output.doubles,
                                                     gradOutput: gradOutput.doubles, checked.geometry))
    }
}
