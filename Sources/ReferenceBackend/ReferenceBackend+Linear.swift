import TensorOps

extension ReferenceBackend {
    public func linearForward(
        _ checked: Checked<LinearGeometry>, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.linearForward(input: input.doubles, weight: weight.doubles, bias: bias?.doubles, g))
    }

    public func linearBackwardInput(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, weight: Tensor, gradInput: Tensor
    ) throws {
        let g = checked.geometry
        gradInput.store(ReferenceMath.linearBackwardInput(gradOutput: gradOutput.doubles, weight: weight.doubles, g))
    }

    public func linearBackwardWeight(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?
    ) throws {
        let g = checked.geometry
        let (dw, db) = ReferenceMath.linearBackwardWeight(gradOutput: gradOutput.doubles, input: input.doubles, g)
        gradWeight.store(dw)
        gradBias?.store(db)
    }
}

extension ReferenceBackend {
    public func matmulForward(_ checked: Checked<MatMulGeometry>, a: Tensor, b: Tensor, output: Tensor) throws {
        output.store(ReferenceMath.matmulForward(a: a.doubles, b: b.doubles, checked.geometry))
    }

    public func matmulBackward(
        _ checked: Checked<MatMulGeometry>, a: Tensor, b: Tensor, gradOutput: Tensor, gradA: Tensor?, gradB: Tensor?
    ) throws {
        let (da, db) = ReferenceMath.matmulBackward(a: a.doubles, b: b.doubles, gradOutput: gradOutput.doubles,
                                                    checked.geometry)
        gradA?.store(da)
        gradB?.store(db)
    }
}
