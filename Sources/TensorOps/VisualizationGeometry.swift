import Foundation

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

/// Per-image standardization, (x − mean) / (std + ε) over all of an image's elements: any shape N×…, N ≥ 1.
public struct StandardizeGeometry: Hashable, Sendable {
    public let shape: TensorShape

    /// - Throws: `ShapeError` unless every shape equals the first, of rank 2 or more with no zero dimension.
    public init(_ shapes: [TensorShape], roles: [String]) throws(ShapeError) {
        let shape = shapes[0]
        guard shape.rank >= 2, shape.count > 0 else {
            throw ShapeError(op: "standardize", message: "\(roles[0]) \(shape) must be N×… with at least one element per image")
        }
        for (other, role) in zip(shapes, roles).dropFirst() { try other.require(shape, role, of: "standardize") }
        self.shape = shape
    }

    public var images: Int { shape[0] }
    /// Elements per image.
    public var elements: Int { shape.count / shape[0] }
}

/// The shapes of affine resampling: images N×C×H×W, each resampled K times (random transforms, or MaCo's crops)
/// into (N·K)×C×OH×OW, output image n·K + k reading input image n through its own map (`maps`: (N·K)×6).
public struct AffineResampleGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let output: TensorShape

    /// - Throws: `ShapeError` unless both are NCHW with equal channels, the output batch a multiple of the input's,
    ///   and `maps` (N·K)×6.
    public init(input: TensorShape, maps: TensorShape, output: TensorShape) throws(ShapeError) {
        try input.requireNCHW("input", of: "affine_resample")
        try output.requireNCHW("output", of: "affine_resample")
        guard output[1] == input[1], output[0] % input[0] == 0 else {
            throw ShapeError(op: "affine_resample",
                             message: "output \(output) must hold a whole number of resamplings of each image of input \(input) (same channels)")
        }
        try maps.require([output[0], 6], "maps", of: "affine_resample")
        self.input = input
        self.output = output
    }

    /// Resamplings per input image.
    public var copies: Int { output[0] / input[0] }
}

/// One image's affine resampling map: output pixel centre (x, y), taken relative to the image centre, reads the
/// input at (a·x + b·y + tx, c·x + d·y + ty) relative to the centre.
public struct AffineMap: Hashable, Sendable {
    public var a: Float, b: Float, tx: Float
    public var c: Float, d: Float, ty: Float

    public init(a: Float, b: Float, tx: Float, c: Float, d: Float, ty: Float) {
        (self.a, self.b, self.tx, self.c, self.d, self.ty) = (a, b, tx, c, d, ty)
    }

    public static let identity = AffineMap(a: 1, b: 0, tx: 0, c: 0, d: 1, ty: 0)

    /// Scale by `scale`, rotate by `degrees` and shift by (`dx`, `dy`) pixels: the image as seen after the
    /// transform, expressed as where each output pixel reads from.
    public init(scale: Float, degrees: Float, dx: Float, dy: Float) {
        let radians = Double(degrees) * .pi / 180
        let cosine = Float(cos(radians)) / scale, sine = Float(sin(radians)) / scale
        self.init(a: cosine, b: sine, tx: -dx, c: -sine, d: cosine, ty: -dy)
    }

    /// The six numbers in the order kernels read them.
    public var values: [Float] { [a, b, tx, c, d, ty] }

    /// How far (in output pixels) an input pixel's influence can reach: output pixels whose sample point lies
    /// within one pixel of it in each axis are within this distance of its preimage.
    public var reach: Int {
        let determinant = Double(a * d - b * c)
        guard determinant != 0 else { return 0 }
        // The largest singular value of the inverse bounds how far 1.5 input pixels spread in the output.
        let (p, q, r, s) = (Double(d) / determinant, -Double(b) / determinant, -Double(c) / determinant,
                            Double(a) / determinant)
        let frobenius = (p * p + q * q + r * r + s * s).squareRoot()
        return Int((1.5 * frobenius).rounded(.up)) + 1
    }
}

/// Adam's hyper-parameters (ascent: the parameter moves along the gradient).
public struct AdamParameters: Hashable, Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        (self.learningRate, self.beta1, self.beta2, self.epsilon) = (learningRate, beta1, beta2, epsilon)
    }
}

/// Shapes of the diversity term over an N×C×H×W activation.
public struct DiversityGeometry: Hashable, Sendable {
    public let activation: TensorShape

    /// - Throws: `ShapeError` unless the activation is NCHW with at least two images.
    public init(activation: TensorShape) throws(ShapeError) {
        try activation.requireNCHW("activation", of: "diversity")
        guard activation[0] >= 2 else {
            throw ShapeError(op: "diversity", message: "needs at least 2 images in the batch, got \(activation[0])")
        }
        self.activation = activation
    }

    public var images: Int { activation[0] }
    public var channels: Int { activation[1] }
    public var positions: Int { activation[2] * activation[3] }
    /// Floats per scratch row: one Gram matrix, or the norms and dots of the batch.
    public var row: Int { max(channels * channels, 2 * images) }
    public var scratchShape: TensorShape { [images + 2, row] }
}
