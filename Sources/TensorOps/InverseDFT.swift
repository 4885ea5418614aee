// The inverse real 2-D DFT of Lucid's and MaCo's Fourier parameterizations: three products per direction on
// Kernels/gemm.cl against DFT tables (`OpenCLBackend+InverseDFT`), the reference in `ReferenceMath+Visualization`.

/// The shapes of an inverse real 2-D DFT: spectra N×C×H×2F (F = W/2 + 1 complex columns, real and imaginary
/// parts interleaved) and images N×C×H×W. numpy.fft.irfft2 semantics (norm "backward": divided by H·W).
public struct SpectrumGeometry: Hashable, Sendable {
    public let spectrum: TensorShape
    public let image: TensorShape

    /// Complex columns for an image `width` wide: W/2 + 1.
    public static func frequencyColumns(width: Int) -> Int { width / 2 + 1 }

    /// The spectrum shape for images of `image` shape.
    public static func spectrumShape(for image: TensorShape) -> TensorShape {
        [image[0], image[1], image[2], 2 * frequencyColumns(width: image[3])]
    }

    /// The scratch the inverse DFT's stages pass through: per image row, the column transform's result times the
    /// cosine and the sine halves side by side (N×C×H×4F).
    public var scratch: TensorShape { [image[0], image[1], image[2], 4 * columns] }

    /// - Throws: `ShapeError` unless both are NCHW with equal N, C, H and the spectrum holds W/2 + 1 complex columns.
    public init(spectrum: TensorShape, image: TensorShape) throws(ShapeError) {
        try image.requireNCHW("image", of: "irfft2")
        try spectrum.require(Self.spectrumShape(for: image), "spectrum", of: "irfft2")
        self.spectrum = spectrum
        self.image = image
    }

    public var planes: Int { image[0] * image[1] }
    public var height: Int { image[2] }
    public var width: Int { image[3] }
    public var columns: Int { spectrum[3] / 2 }
}

// MARK: - Descriptor

/// The inverse DFT's cases.
public enum InverseDFTOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        InverseDFTCase(image: [2, 3, 8, 10]),
        InverseDFTCase(image: [1, 2, 9, 7]),
        // Several tiles of the products; a single row and a single column (F = 1).
        InverseDFTCase(image: [2, 3, 40, 34]),
        InverseDFTCase(image: [1, 1, 1, 6]),
        InverseDFTCase(image: [3, 1, 5, 1]),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        InverseDFTCase(image: [1, 2, 5, 6]),
        InverseDFTCase(image: [2, 1, 4, 3]),
    ]
}

/// numpy.fft.irfft2 of a spectrum N×C×H×2F to images N×C×H×W.
public struct InverseDFTCase: DifferentiableOpCase {
    public let geometry: SpectrumGeometry

    init(image: TensorShape) {
        geometry = try! SpectrumGeometry(spectrum: SpectrumGeometry.spectrumShape(for: image), image: image)
    }

    public var op: String { "irfft2" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(geometry.image)" }
    public var inputShapes: [TensorShape] { [geometry.spectrum] }
    public var inputNames: [String] { ["spectrum"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let image = try backend.makeTensor(geometry.image)
        try backend.irfft2Forward(spectrum: inputs[0], scratch: try backend.makeTensor(geometry.scratch), output: image)
        return image
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradSpectrum = try backend.makeTensor(geometry.spectrum)
        try backend.irfft2Backward(gradOutput: gradOutput, scratch: try backend.makeTensor(geometry.scratch),
                                   gradSpectrum: gradSpectrum)
        return [0: gradSpectrum]
    }
}

// MARK: - Cost

extension OpCost {
    /// Both separable stages of the inverse real DFT: a complex multiply-add (8 operations) per term.
    public static func irfft2(_ g: SpectrumGeometry) -> OpCost {
        let terms = g.planes * g.height * g.columns * (g.height + g.width)
        return OpCost(flops: 8 * terms, bytes: OpCost.traffic(g.spectrum.count, g.spectrum.count, g.image.count))
    }
}

// MARK: - Front door

extension Backend {
    public func irfft2Forward(spectrum: Tensor, scratch: Tensor, output: Tensor) throws {
        let checked = Checked(try checkSpectrum(spectrum: spectrum.shape, image: output.shape, scratch: scratch.shape))
        try irfft2Forward(checked, spectrum: spectrum, scratch: scratch, output: output)
    }

    public func irfft2Backward(gradOutput: Tensor, scratch: Tensor, gradSpectrum: Tensor) throws {
        let checked = Checked(try checkSpectrum(
            spectrum: gradSpectrum.shape, image: gradOutput.shape, scratch: scratch.shape))
        try irfft2Backward(checked, gradOutput: gradOutput, scratch: scratch, gradSpectrum: gradSpectrum)
    }
}

// MARK: - Shape checks

extension Backend {
    /// Spectra N×C×H×2F, images N×C×H×W and the scratch `SpectrumGeometry.scratch` of an inverse DFT.
    func checkSpectrum(spectrum: TensorShape, image: TensorShape, scratch: TensorShape) throws -> SpectrumGeometry {
        let geometry = try SpectrumGeometry(spectrum: spectrum, image: image)
        try scratch.require(geometry.scratch, "scratch", of: "irfft2")
        return geometry
    }
}
