import TensorOps

extension ReferenceBackend {
    public func binaryForward(
        _ checked: Checked<BroadcastGeometry>, _ op: BinaryOp, _ a: Tensor, _ b: Tensor, output: Tensor
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.binaryForward(op, a.doubles, b.doubles, g))
    }

    public func binaryBackward(
        _ checked: Checked<BroadcastGeometry>, _ op: BinaryOp, a: Tensor, b: Tensor, gradOutput: Tensor,
        gradA: Tensor?, gradB: Tensor?
    ) throws {
        let g = checked.geometry
        let grads = ReferenceMath.binaryBackward(op, a.doubles, b.doubles, gradOutput: gradOutput.doubles, g)
        gradA?.store(grads.a)
        gradB?.store(grads.b)
    }

    public func channelAffineForward(
        _ checked: Checked<TensorShape>, input: Tensor, scale: Tensor, shift: Tensor, output: Tensor
    ) throws {
        output.store(
            ReferenceMath.channelAffineForward(
                input: input.doubles, scale: scale.doubles, shift: shift.doubles, shape: input.shape))
    }

    public func channelAffineBackward(
        _ checked: Checked<TensorShape>, gradOutput: Tensor, scale: Tensor, gradInput: Tensor
    ) throws {
        let zeros = [Double](repeating: 0, count: scale.shape.count)
        gradInput.store(
            ReferenceMath.channelAffineForward(
                input: gradOutput.doubles, scale: scale.doubles, shift: zeros, shape: gradOutput.shape))
    }

    public func softmaxForward(_ checked: Checked<SoftmaxGeometry>, input: Tensor, output: Tensor) throws {
        output.store(ReferenceMath.softmaxForward(input: input.doubles, checked.geometry))
    }

    public func softmaxBackward(
        _ checked: Checked<SoftmaxGeometry>, output: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        gradInput.store(ReferenceMath.softmaxBackward(output: output.doubles, gradOutput: gradOutput.doubles, checked.geometry))
    }
}
