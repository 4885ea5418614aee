import TensorOps

extension ReferenceBackend {
    public func activationForward(
        _ checked: Checked<TensorShape>, _ activation: Activation, input: Tensor, output: Tensor
    ) throws {
        output.store(ReferenceMath.activationForward(activation, input: input.doubles))
    }

    public func activationBackward(
        _ checked: Checked<TensorShape>, _ activation: Activation, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        gradInput.store(ReferenceMath.activationBackward(activation, input: input.doubles, gradOutput: gradOutput.doubles))
    }

    public func reluBackward(
        _ checked: Checked<TensorShape>, _ rule: ReLUGradient, input: Tensor, gradOutput: Tensor, gradInput: Tensor
    ) throws {
        gradInput.store(zip(input.doubles, gradOutput.doubles).map { x, dy in
            switch rule {
            case .standard: x > 0 ? dy : 0
            case .guided: x > 0 ? max(dy, 0) : 0
            case .deconvnet: max(dy, 0)
            }
        })
    }
}
