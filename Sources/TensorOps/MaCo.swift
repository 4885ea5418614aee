/// MaCo's spectrum from a fixed magnitude and an optimized phase: phases N×C×H×F, magnitudes 1×C×H×F (one table
/// for the whole batch), spectra N×C×H×2F with real and imaginary parts interleaved, as `irfft2` reads them.
public struct PolarSpectrumGeometry: Hashable, Sendable {
    public let phase: TensorShape

    /// - Throws: `ShapeError` unless the phase is NCHW, the magnitude 1×C×H×F of it and the spectrum N×C×H×2F.
    public init(magnitude: TensorShape, phase: TensorShape, spectrum: TensorShape) throws(ShapeError) {
        try phase.requireNCHW("phase", of: "polar_spectrum")
        try magnitude.require([1, phase[1], phase[2], phase[3]], "magnitude", of: "polar_spectrum")
        try spectrum.require([phase[0], phase[1], phase[2], 2 * phase[3]], "spectrum", of: "polar_spectrum")
        self.phase = phase
    }

    public var spectrum: TensorShape { [phase[0], phase[1], phase[2], 2 * phase[3]] }
}

/// Standardization of every row, (x − mean) / (std + ε) or / √(variance + ε), over the axes from `axis` on: per
/// image (axis 1, MaCo), per token or position (the last axis, LayerNormalization), per channel or group of channels
/// (InstanceNormalization, GroupNormalization over a reshaped view).
public struct StandardizeGeometry: Hashable, Sendable {
    public let shape: TensorShape
    /// The first axis standardized over; the ones before it count rows.
    public let axis: Int

    /// - Throws: `ShapeError` unless every shape equals the first, with no zero dimension, and `axis` leaves at least
    ///   one axis on each side.
    public init(_ shapes: [TensorShape], roles: [String], axis: Int = 1) throws(ShapeError) {
        let shape = shapes[0]
        guard (1..<max(shape.rank, 1)).contains(axis), shape.count > 0 else {
            throw ShapeError(op: "standardize", message: "\(roles[0]) \(shape) cannot be standardized from axis \(axis) "
                + "(rows before it, values from it on, none empty)")
        }
        for (other, role) in zip(shapes, roles).dropFirst() { try other.require(shape, role, of: "standardize") }
        self.shape = shape
        self.axis = axis
    }

    public var rows: Int { shape.dimensions[..<axis].reduce(1, *) }
    /// Values per row.
    public var elements: Int { shape.count / rows }
}

/// Where standardization adds its ε.
public enum StandardizeEpsilon: Hashable, Sendable, CustomStringConvertible {
    /// (x − μ) / (σ + ε): MaCo's (tf.math.reduce_std) image standardization.
    case deviation(Float)
    /// (x − μ) / √(σ² + ε): ONNX's LayerNormalization, InstanceNormalization and GroupNormalization.
    case variance(Float)

    public var value: Float {
        switch self {
        case .deviation(let epsilon), .variance(let epsilon): epsilon
        }
    }

    public var description: String {
        switch self {
        case .deviation(let epsilon): "/(σ + \(epsilon))"
        case .variance(let epsilon): "/√(σ² + \(epsilon))"
        }
    }
}

// MARK: - Descriptor

/// MaCo's ops (Kernels/maco.cl, `OpenCLBackend+MaCo`, `ReferenceMath+MaCo`): the polar spectrum, per-image
/// standardization, and the transparency map's running sum of |gradient|.
public enum MaCoOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        PolarSpectrumCase(phase: [2, 3, 9, 6]),
        // One image of more values than the work-group, and several small ones.
        StandardizeCase(shape: [1, 3, 31, 29], epsilon: .deviation(1e-5)),
        StandardizeCase(shape: [4, 2, 5, 3], epsilon: .deviation(1e-5)),
        // LayerNormalization over tokens' channels, InstanceNormalization over planes.
        StandardizeCase(shape: [2, 7, 48], axis: 2, epsilon: .variance(1e-5)),
        StandardizeCase(shape: [2, 3, 17, 19], axis: 2, epsilon: .variance(1e-6)),
        // Rows longer than a CPU's one-work-item rows (4096): the work-group kernels there too.
        StandardizeCase(shape: [2, 3, 41, 101], epsilon: .deviation(1e-5)),
        StandardizeCase(shape: [3, 5000], axis: 1, epsilon: .variance(1e-5)),
        AccumulateAbsoluteCase(shape: [2, 3, 5, 7]),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        PolarSpectrumCase(phase: [2, 2, 3, 4]),
        StandardizeCase(shape: [3, 2, 4, 5], epsilon: .deviation(1e-5)),
        StandardizeCase(shape: [1, 1, 7, 6], epsilon: .deviation(0.1)),
        StandardizeCase(shape: [2, 3, 5], axis: 2, epsilon: .variance(1e-5)),
        StandardizeCase(shape: [2, 4, 2, 3], axis: 1, epsilon: .variance(0.1)),
    ]
}

/// Inputs: one magnitude table 1×C×H×F (positive, no gradient) and phases over several turns (σ = 4), so the
/// angle reduction is exercised.
public struct PolarSpectrumCase: DifferentiableOpCase {
    public let phase: TensorShape

    init(phase: TensorShape) { self.phase = phase }

    public var op: String { "polar_spectrum" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "φ\(phase) magnitude 1×\(phase[1])×\(phase[2])×\(phase[3])" }
    public var inputShapes: [TensorShape] { [[1, phase[1], phase[2], phase[3]], phase] }
    public var inputNames: [String] { ["magnitude", "phase"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        index == 0 ? (0..<inputShapes[0].count).map { _ in Float(abs(random.nextNormal())) }
            : HostTensor.randomNormal(phase, scale: 4, using: &random).values
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let spectrum = try backend.makeTensor([phase[0], phase[1], phase[2], 2 * phase[3]])
        try backend.polarSpectrumForward(magnitude: inputs[0], phase: inputs[1], spectrum: spectrum)
        return spectrum
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradPhase = try backend.makeTensor(phase)
        try backend.polarSpectrumBackward(magnitude: inputs[0], phase: inputs[1], gradSpectrum: gradOutput,
                                          gradPhase: gradPhase)
        return [1: gradPhase]
    }
}

/// Inputs with an offset and a spread far from 0 and 1 (3 ± 0.2), as an inverse DFT's output has.
public struct StandardizeCase: DifferentiableOpCase {
    public let shape: TensorShape
    public let axis: Int
    public let epsilon: StandardizeEpsilon

    init(shape: TensorShape, axis: Int = 1, epsilon: StandardizeEpsilon) {
        (self.shape, self.axis, self.epsilon) = (shape, axis, epsilon)
    }

    public var op: String { "standardize" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(shape) axis \(axis) \(epsilon)" }
    public var inputShapes: [TensorShape] { [shape] }
    public var inputNames: [String] { ["input"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        (0..<shape.count).map { _ in Float(3 + 0.2 * random.nextNormal()) }
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(shape)
        try backend.standardizeForward(input: inputs[0], output: output, axis: axis, epsilon: epsilon)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(shape)
        try backend.standardizeBackward(input: inputs[0], gradOutput: gradOutput, gradInput: gradInput, axis: axis,
                                        epsilon: epsilon)
        return [0: gradInput]
    }
}

/// Two updates of an accumulator.
public struct AccumulateAbsoluteCase: OpCase {
    public let shape: TensorShape

    init(shape: TensorShape) { self.shape = shape }

    public var op: String { "accumulate_absolute" }
    public var directions: [Direction] { [.step] }
    public var shapeDescription: String { "x\(shape), 2 steps" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let accumulator = try backend.upload(.randomNormal(shape, using: &random))
        for _ in 0..<2 { try backend.accumulateAbsolute(try backend.upload(.randomNormal(shape, using: &random)), into: accumulator) }
        return [ParityOutput(name: "accumulator", values: try backend.download(accumulator).values)]
    }
}

// MARK: - Cost

extension OpCost {
    /// A cosine and a sine (about 20 operations each) and two multiplications per phase; the backward the same.
    public static func polarSpectrum(_ g: PolarSpectrumGeometry) -> OpCost {
        OpCost(flops: 42 * g.phase.count, bytes: OpCost.traffic(2 * g.phase.count, g.spectrum.count))
    }
}

extension OpCost {
    /// Two passes for the statistics and one for the result (about 3 operations per element each way); the
    /// backward adds one more pass for the two gradient sums.
    public static func standardize(_ g: StandardizeGeometry, backward: Bool) -> OpCost {
        let count = g.shape.count
        return backward ? OpCost(flops: 10 * count, bytes: OpCost.traffic(3 * count, count))
            : OpCost(flops: 6 * count, bytes: OpCost.traffic(2 * count, count))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func polarSpectrumForward(magnitude: Tensor, phase: Tensor, spectrum: Tensor) throws {
        let checked = Checked(try PolarSpectrumGeometry(
            magnitude: magnitude.shape, phase: phase.shape, spectrum: spectrum.shape))
        try polarSpectrumForward(checked, magnitude: magnitude, phase: phase, spectrum: spectrum)
    }

    public func polarSpectrumBackward(
        magnitude: Tensor, phase: Tensor, gradSpectrum: Tensor, gradPhase: Tensor
    ) throws {
        let checked = Checked(try checkPolarSpectrumBackward(
            magnitude: magnitude.shape, phase: phase.shape, gradSpectrum: gradSpectrum.shape,
            gradPhase: gradPhase.shape))
        try polarSpectrumBackward(
            checked, magnitude: magnitude, phase: phase, gradSpectrum: gradSpectrum, gradPhase: gradPhase)
    }

    /// Every row standardized over the axes from `axis` on (1: per image).
    public func standardizeForward(input: Tensor, output: Tensor, axis: Int = 1, epsilon: StandardizeEpsilon) throws {
        let checked = Checked(try StandardizeGeometry([input.shape, output.shape], roles: ["input", "output"], axis: axis))
        try standardizeForward(checked, input: input, output: output, epsilon: epsilon)
    }

    public func standardizeBackward(
        input: Tensor, gradOutput: Tensor, gradInput: Tensor, axis: Int = 1, epsilon: StandardizeEpsilon
    ) throws {
        let checked = Checked(try StandardizeGeometry(
            [input.shape, gradOutput.shape, gradInput.shape], roles: ["input", "gradOutput", "gradInput"], axis: axis))
        try standardizeBackward(checked, input: input, gradOutput: gradOutput, gradInput: gradInput, epsilon: epsilon)
    }

    public func accumulateAbsolute(_ gradient: Tensor, into accumulator: Tensor) throws {
        let checked = Checked(try checkSameShapes(
            [gradient.shape, accumulator.shape], roles: ["gradient", "accumulator"], of: "accumulate_absolute"))
        try accumulateAbsolute(checked, gradient, into: accumulator)
    }
}

// MARK: - Shape checks

extension Backend {
    /// The polar spectrum's shapes, and a phase gradient shaped as the phase.
    func checkPolarSpectrumBackward(magnitude: TensorShape, phase: TensorShape, gradSpectrum: TensorShape,
                                    gradPhase: TensorShape) throws -> PolarSpectrumGeometry {
        let geometry = try PolarSpectrumGeometry(magnitude: magnitude, phase: phase, spectrum: gradSpectrum)
        try gradPhase.require(phase, "gradPhase", of: "polar_spectrum")
        return geometry
    }
}
