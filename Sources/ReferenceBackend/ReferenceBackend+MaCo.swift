import TensorOps

extension ReferenceBackend {
    public func polarSpectrumForward(magnitude: Tensor, phase: Tensor, spectrum: Tensor) throws {
        let g = try PolarSpectrumGeometry(magnitude: magnitude.shape, phase: phase.shape, spectrum: spectrum.shape)
        spectrum.store(ReferenceMath.polarSpectrumForward(magnitude: magnitude.doubles, phase: phase.doubles, g))
    }

    public func polarSpectrumBackward(magnitude: Tensor, phase: Tensor, gradSpectrum: Tensor, gradPhase: Tensor) throws {
        let g = try PolarSpectrumGeometry(magnitude: magnitude.shape, phase: phase.shape, spectrum: gradSpectrum.shape)
        try gradPhase.shape.require(phase.shape, "gradPhase", of: "polar_spectrum")
        gradPhase.store(ReferenceMath.polarSpectrumBackward(
            magnitude: magnitude.doubles, phase: phase.doubles, gradSpectrum: gradSpectrum.doubles, g))
    }

    public func standardizeForward(input: Tensor, output: Tensor, epsilon: Float) throws {
        let g = try StandardizeGeometry([input.shape, output.shape], roles: ["input", "output"])
        output.store(ReferenceMath.standardizeForward(input: input.doubles, epsilon: Double(epsilon), g))
    }

    public func standardizeBackward(input: Tensor, gradOutput: Tensor, gradInput: Tensor, epsilon: Float) throws {
        let g = try StandardizeGeometry([input.shape, gradOutput.shape, gradInput.shape],
                                        roles: ["input", "gradOutput", "gradInput"])
        gradInput.store(ReferenceMath.standardizeBackward(
            input: input.doubles, gradOutput: gradOutput.doubles, epsilon: Double(epsilon), g))
    }

    public func accumulateAbsolute(_ gradient: Tensor, into accumulator: Tensor) throws {
        try checkSameShapes([gradient.shape, accumulator.shape], roles: ["gradient", "accumulator"],
                            of: "accumulate_absolute")
        accumulator.store(zip(accumulator.doubles, gradient.doubles).map { $0 + abs($1) })
    }
}
