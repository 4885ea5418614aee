import Foundation
import ImageIO
import TensorOps

/// MaCo's image (Fel et al., NeurIPS 2023; xplique's `maco`): only the Fourier phase is optimized, under the fixed
/// magnitude spectrum of natural photos, so the image keeps natural-image statistics at any depth without penalty
/// terms. Per image: phase φ → φ̂ = standardize(φ) → spectrum M·e^{iφ̂} → irfft2 → standardize, over all of the
/// image's elements each time; `ImageParameterization` then recorrelates the colours and squashes by the sigmoid.
/// Every stage is a backend op, so the reference replays it.
final class MacoPhase<B: Backend> {
    /// xplique's ε in both standardizations.
    static var epsilon: StandardizeEpsilon { .deviation(1e-5) }

    private let backend: B
    /// 1×3×H×F, the natural-image magnitude resized to this image size.
    private let magnitude: B.Tensor
    private let standardizedPhase: B.Tensor, gradStandardizedPhase: B.Tensor
    private let spectrum: B.Tensor, gradSpectrum: B.Tensor, scratch: B.Tensor
    /// The inverse DFT's output, before its standardization.
    private let raw: B.Tensor, gradRaw: B.Tensor

    /// Stages for images of `imageShape` (N×3×H×W), with `table` (3×h×f magnitudes, as `MacoSpectrum` loads) resized
    /// to H × (W/2 + 1).
    init(backend: B, table: HostTensor, imageShape: TensorShape) throws {
        self.backend = backend
        let spectrumShape = SpectrumGeometry.spectrumShape(for: imageShape)
        let phaseShape = Self.phaseShape(for: imageShape)
        magnitude = try backend.upload(MacoSpectrum.resized(table, height: imageShape[2],
                                                            columns: SpectrumGeometry.frequencyColumns(width: imageShape[3])))
        (standardizedPhase, gradStandardizedPhase) = (try backend.makeTensor(phaseShape), try backend.makeTensor(phaseShape))
        (spectrum, gradSpectrum) = (try backend.makeTensor(spectrumShape), try backend.makeTensor(spectrumShape))
        scratch = try backend.makeTensor(try SpectrumGeometry(spectrum: spectrumShape, image: imageShape).scratch)
        (raw, gradRaw) = (try backend.makeTensor(imageShape), try backend.makeTensor(imageShape))
    }

    /// The optimized phases: N×C×H×(W/2 + 1).
    static func phaseShape(for imageShape: TensorShape) -> TensorShape {
        [imageShape[0], imageShape[1], imageShape[2], SpectrumGeometry.frequencyColumns(width: imageShape[3])]
    }

    /// The standardized linear image from the phases.
    func render(phase: B.Tensor, into linear: B.Tensor) throws {
        try backend.standardizeForward(input: phase, output: standardizedPhase, epsilon: Self.epsilon)
        try backend.polarSpectrumForward(magnitude: magnitude, phase: standardizedPhase, spectrum: spectrum)
        try backend.irfft2Forward(spectrum: spectrum, scratch: scratch, output: raw)
        try backend.standardizeForward(input: raw, output: linear, epsilon: Self.epsilon)
    }

    /// ∂L/∂phase from ∂L/∂(standardized linear image), after `render`.
    func backward(phase: B.Tensor, gradLinear: B.Tensor, into gradPhase: B.Tensor) throws {
        try backend.standardizeBackward(input: raw, gradOutput: gradLinear, gradInput: gradRaw, epsilon: Self.epsilon)
        try backend.irfft2Backward(gradOutput: gradRaw, scratch: scratch, gradSpectrum: gradSpectrum)
        try backend.polarSpectrumBackward(magnitude: magnitude, phase: standardizedPhase, gradSpectrum: gradSpectrum,
                                          gradPhase: gradStandardizedPhase)
        try backend.standardizeBackward(input: phase, gradOutput: gradStandardizedPhase, gradInput: gradPhase,
                                        epsilon: Self.epsilon)
    }
}

/// The natural-image magnitude spectrum MaCo keeps fixed: 3×H×F magnitudes of decorrelated colour channels, vertical
/// frequencies in FFT order, as Tools/maco_spectrum.py computes them from scikit-image's photos (embedded in the
/// binary), or a user's table of the same layout.
public enum MacoSpectrum {
    /// The embedded table (3×128×65).
    public static func natural() throws -> HostTensor {
        let name = "maco_spectrum_128.npy"
        guard let encoded = embeddedDataFiles[name], let data = Data(base64Encoded: encoded) else {
            throw VisualizationError.badSetting("the MaCo spectrum table \(name) was not embedded at build time")
        }
        return try checked(try NPYFile.read(bytes: Array(data), source: "embedded \(name)"), source: name)
    }

    /// A table from a `.npy` file.
    /// - Throws: `ImageIOError` for an unreadable file, `VisualizationError` for one of the wrong shape or values.
    public static func read(_ path: String) throws -> HostTensor {
        try checked(try NPYFile.read(path), source: path)
    }

    static func checked(_ table: HostTensor, source: String) throws -> HostTensor {
        guard table.shape.rank == 3, table.shape[0] == 3, table.shape[1] >= 2, table.shape[2] >= 2 else {
            throw VisualizationError.badSetting("\(source): a MaCo spectrum must be 3×H×F magnitudes, got \(table.shape)")
        }
        guard table.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw VisualizationError.badSetting("\(source): MaCo magnitudes must be finite and not negative")
        }
        return table
    }

    /// `table` bilinearly resized (half-pixel centres, as xplique's tf.image.resize) to `height` × `columns` per
    /// channel, as 1×3×height×columns.
    static func resized(_ table: HostTensor, height: Int, columns: Int) -> HostTensor {
        let (rows, width) = (table.shape[1], table.shape[2])
        var values: [Float] = []
        for channel in 0..<3 {
            let plane = Array(table.values[(channel * rows * width)..<((channel + 1) * rows * width)])
            values += resizeBilinear(plane, height: rows, width: width, toHeight: height, toWidth: columns)
        }
        return HostTensor(shape: [1, 3, height, columns], values: values)
    }
}
