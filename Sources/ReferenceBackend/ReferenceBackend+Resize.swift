import TensorOps

extension ReferenceBackend {
    public func resizeForward(_ checked: Checked<ResizeGeometry>, input: Tensor, output: Tensor) throws {
        output.store(ReferenceMath.resizeForward(input.doubles, checked.geometry))
    }

    public func resizeBackward(_ checked: Checked<ResizeGeometry>, gradOutput: Tensor, gradInput: Tensor) throws {
        gradInput.store(ReferenceMath.resizeBackward(gradOutput.doubles, checked.geometry))
    }
}
