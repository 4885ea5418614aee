import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func polarSpectrumForward(
        _ checked: Checked<PolarSpectrumGeometry>, magnitude: Tensor, phase: Tensor, spectrum: Tensor
    ) throws {
        let g = checked.geometry
        try launch(
            try kernel("polar_spectrum_forward", in: "maco.cl"), global: [g.phase.count],
            arguments: [.buffer(magnitude.buffer), .buffer(phase.buffer), .buffer(spectrum.buffer), .int(g.phase.count),
                        .int(magnitude.shape.count)],
            cost: OpCost.polarSpectrum(g), detail: "\(phase.shape)")
    }

    public func polarSpectrumBackward(
        _ checked: Checked<PolarSpectrumGeometry>, magnitude: Tensor, phase: Tensor, gradSpectrum: Tensor,
        gradPhase: Tensor
    ) throws {
        let g = checked.geometry
        try launch(
            try kernel("polar_spectrum_backward", in: "maco.cl"), global: [g.phase.count],
            arguments: [.buffer(magnitude.buffer), .buffer(phase.buffer), .buffer(gradSpectrum.buffer),
                        .buffer(gradPhase.buffer), .int(g.phase.count), .int(magnitude.shape.count)],
            cost: OpCost.polarSpectrum(g), detail: "\(phase.shape)")
    }

    public func standardizeForward(
        _ checked: Checked<StandardizeGeometry>, input: Tensor, output: Tensor, epsilon: StandardizeEpsilon
    ) throws {
        let g = checked.geometry
        try launchStandardize("standardize_forward", g, buffers: [input.buffer, output.buffer], epsilon: epsilon)
    }

    public func standardizeBackward(
        _ checked: Checked<StandardizeGeometry>, input: Tensor, gradOutput: Tensor, gradInput: Tensor,
        epsilon: StandardizeEpsilon
    ) throws {
        let g = checked.geometry
        try launchStandardize("standardize_backward", g, buffers: [input.buffer, gradOutput.buffer, gradInput.buffer],
                              epsilon: epsilon)
    }

    /// One work-group of 256 per row (the kernels' STANDARDIZE_GROUP): the statistics are sums over the group;
    /// rows up to the device's `standardizeRowMaximum` take one work-item each instead (the `_rows` kernels).
    private func launchStandardize(
        _ name: String, _ g: StandardizeGeometry, buffers: [DeviceBuffer], epsilon: StandardizeEpsilon
    ) throws {
        let cost = OpCost.standardize(g, backward: name.hasSuffix("backward"))
        let inVariance = if case .variance = epsilon { 1 } else { 0 }
        if g.elements <= tuning.standardizeRowMaximum {
            let rowsName = name.replacingOccurrences(of: "standardize_", with: "standardize_rows_")
            _ = try context.launch(
                try kernel(rowsName, in: "maco.cl", defines: ["EPSILON_IN_VARIANCE": inVariance]), global: [g.rows],
                local: [64], arguments: buffers.map { .buffer($0) } + [.int(g.rows), .int(g.elements), .float(epsilon.value)],
                annotation: LaunchAnnotation(flops: cost.flops, bytes: cost.bytes, detail: "\(g.shape)"))
            return
        }
        try context.launch(
            try kernel(name, in: "maco.cl", defines: ["EPSILON_IN_VARIANCE": inVariance]), global: [256, g.rows],
            local: [256, 1],
            arguments: buffers.map { .buffer($0) } + [.int(g.elements), .float(epsilon.value)],
            annotation: LaunchAnnotation(flops: cost.flops, bytes: cost.bytes, detail: "\(g.shape)"))
    }

    public func accumulateAbsolute(
        _ checked: Checked<TensorShape>, _ gradient: Tensor, into accumulator: Tensor
    ) throws {
        let count = gradient.shape.count
        try launch(
            try kernel("accumulate_absolute", in: "maco.cl"), global: [count],
            arguments: [.buffer(gradient.buffer), .buffer(accumulator.buffer), .int(count)],
            cost: OpCost(flops: 2 * count, bytes: OpCost.traffic(2 * count, count)), detail: "\(gradient.shape)")
    }
}
