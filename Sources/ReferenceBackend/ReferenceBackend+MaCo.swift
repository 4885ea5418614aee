import TensorOps

extension ReferenceBackend {
    public func polarSpectrumForward(
        _ checked: Checked<PolarSpectrumGeometry>, magnitude: Tensor, phase: Tensor, spectrum: Tensor
    ) throws {
        let g = checked.geometry
        spectrum.store(ReferenceMath.polarSpectrumForward(magnitude: magnitude.doubles, phase: phase.doubles, g))
    }

    public func polarSpectrumBackward(
        _ checked: Checked<PolarSpectrumGeometry>, magnitude: Tensor, phase: Tensor, gradSpectrum: Tensor,
        gradPhase: Tensor
    ) throws {
        let g = checked.geometry
        gradPhase.store(ReferenceMath.polarSpectrumBackward(
            magnitude: magnitude.doubles, phase: phase.doubles, gradSpectrum: gradSpectrum.doubles, g))
    }

    public func standardizeForward(
        _ checked: Checked<StandardizeGeometry>, input: Tensor, output: Tensor, epsilon: StandardizeEpsilon
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.standardizeForward(input: input.doubles, epsilon: epsilon, g))
    }

    public func standardizeBackward(
        _ checked: Checked<StandardizeGeometry>, input: Tensor, gradOutput: Tensor, gradInput: Tensor,
        epsilon: StandardizeEpsilon
    ) throws {
        let g = checked.geometry
        gradInput.store(ReferenceMath.standardizeBackward(
            input: input.doubles, gradOutput: gradOutput.doubles, epsilon: epsilon, g))
    }

    public func accumulateAbsolute(
        _ checked: Checked<TensorShape>, _ gradient: Tensor, into accumulator: Tensor
    ) throws {
        accumulator.store(zip(accumulator.doubles, gradient.doubles).map { $0 + abs($1) })
    }
}
