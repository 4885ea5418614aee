import TensorOps

extension ReferenceBackend {
    public func concatForward(_ checked: Checked<ConcatGeometry>, _ inputs: [Tensor], output: Tensor) throws {
        let g = checked.geometry
        output.store(ReferenceMath.concatForward(inputs.map(\.doubles), g))
    }

    public func concatBackward(_ checked: Checked<ConcatGeometry>, gradOutput: Tensor, gradInputs: [Tensor]) throws {
        let g = checked.geometry
        for (tensor, values) in zip(gradInputs, ReferenceMath.concatBackward(gradOutput: gradOutput.doubles, g)) {
            tensor.store(values)
        }
    }

    public func pad2dForward(
        _ checked: Checked<Pad2DGeometry>, input: Tensor, output: Tensor, padding: Padding2D, value: Float
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.pad2dForward(input: input.doubles, value: Double(value), g))
    }

    public func pad2dBackward(
        _ checked: Checked<Pad2DGeometry>, gradOutput: Tensor, gradInput: Tensor, padding: Padding2D
    ) throws {
        let g = checked.geometry
        gradInput.store(ReferenceMath.pad2dBackward(gradOutput: gradOutput.doubles, g))
    }

    public func sliceForward(_ checked: Checked<SliceGeometry>, input: Tensor, output: Tensor) throws {
        output.store(ReferenceMath.sliceForward(input: input.doubles, checked.geometry))
    }

    public func sliceBackward(_ checked: Checked<SliceGeometry>, gradOutput: Tensor, gradInput: Tensor) throws {
        gradInput.store(ReferenceMath.sliceBackward(gradOutput: gradOutput.doubles, checked.geometry))
    }

    public func permute(_ checked: Checked<PermuteGeometry>, input: Tensor, output: Tensor) throws {
        output.store(ReferenceMath.permute(input: input.doubles, checked.geometry))
    }
}
