import Foundation
import TensorOps

/// The optimized variable and the differentiable path from it to an image in [0, 1]:
/// parameter → (FFT: × 1/frequency scale → inverse real DFT) → (optional colour decorrelation, a 1×1 convolution)
/// → sigmoid. Every stage runs on the backend; the buffers are allocated once.
final class ImageParameterization<B: Backend> {
    let backend: B
    let imageShape: TensorShape
    /// What the optimizer updates.
    let parameter: B.Tensor
    let gradParameter: B.Tensor
    private let spectral: (scale: B.Tensor, scaled: B.Tensor, scratch: B.Tensor, gradScaled: B.Tensor)?
    private let colorMatrix: B.Tensor?
    /// Before the colour mixing (the inverse DFT's output, or the parameter itself).
    private let linear: B.Tensor
    /// Before the sigmoid.
    private let logits: B.Tensor
    private let gradLogits: B.Tensor
    private let gradLinear: B.Tensor
    /// The current image in [0, 1].
    let image: B.Tensor

    /// Lucid's colour-correlation square root (columns normalized by the largest column norm), applied as
    /// out[c] = Σ_d M[c, d] · in[d].
    static var colorCorrelation: [Float] {
        let svdSquareRoot: [Float] = [0.26, 0.09, 0.02, 0.27, 0.00, -0.05, 0.27, -0.09, 0.03]
        let columnNorms = (0..<3).map { column in
            (0..<3).map { svdSquareRoot[$0 * 3 + column] * svdSquareRoot[$0 * 3 + column] }.reduce(0, +).squareRoot()
        }
        let largest = columnNorms.max() ?? 1
        return svdSquareRoot.map { $0 / largest }
    }

    /// A parameterization for `imageShape` (N×C×S×S), started from small seeded normal noise (Lucid: sd 0.01).
    init(backend: B, settings: FilterVisualizationSettings, imageShape: TensorShape,
         random: inout SeededGenerator) throws {
        self.backend = backend
        self.imageShape = imageShape
        let parameterShape = settings.parameterization == .fft ? SpectrumGeometry.spectrumShape(for: imageShape) : imageShape
        parameter = try backend.upload(.randomNormal(parameterShape, scale: 0.01, using: &random))
        if settings.parameterization == .fft {
            let scale = try backend.upload(Self.spectrumScale(height: imageShape[2], width: imageShape[3]))
            spectral = (scale, try backend.makeTensor(parameterShape), try backend.makeTensor(parameterShape),
                        try backend.makeTensor(parameterShape))
            linear = try backend.makeTensor(imageShape)
        } else {
            spectral = nil
            linear = parameter
        }
        if settings.decorrelate && imageShape[1] == 3 {
            colorMatrix = try backend.upload(HostTensor(shape: [3, 3, 1, 1], values: Self.colorCorrelation))
            logits = try backend.makeTensor(imageShape)
        } else {
            colorMatrix = nil
            logits = linear
        }
        image = try backend.makeTensor(imageShape)
        gradLogits = try backend.makeTensor(imageShape)
        gradLinear = colorMatrix == nil ? gradLogits : try backend.makeTensor(imageShape)
        // The pixel parameter is the linear image, so its gradient is the linear image's.
        gradParameter = spectral == nil ? gradLinear : try backend.makeTensor(parameterShape)
    }

    /// Lucid's spectrum scale 1 / max(f, 1/max(H, W)) · √(H·W), divided by 4 as Lucid divides the image, for each
    /// of the spectrum's H × 2F interleaved entries.
    static func spectrumScale(height: Int, width: Int) -> HostTensor {
        let columns = SpectrumGeometry.frequencyColumns(width: width)
        func frequency(_ index: Int, _ size: Int) -> Double {
            Double(index < (size + 1) / 2 ? index : index - size) / Double(size)
        }
        var values: [Float] = []
        for row in 0..<height {
            for column in 0..<columns {
                let fy = frequency(row, height), fx = Double(column) / Double(width)
                let f = max((fx * fx + fy * fy).squareRoot(), 1 / Double(max(height, width)))
                let scale = Float((Double(height * width)).squareRoot() / f / 4)
                values += [scale, scale]
            }
        }
        return HostTensor(shape: [1, 1, height, 2 * columns], values: values)
    }

    /// Computes `image` from the parameter.
    func render() throws {
        if let spectral {
            try backend.binaryForward(.mul, parameter, spectral.scale, output: spectral.scaled)
            try backend.irfft2Forward(spectrum: spectral.scaled, scratch: spectral.scratch, output: linear)
        }
        if let colorMatrix {
            try backend.conv2dForward(input: linear, weight: colorMatrix, bias: nil, output: logits,
                                      parameters: Conv2DParameters())
        }
        try backend.activationForward(.sigmoid, input: logits, output: image)
    }

    /// ∂L/∂parameter into `gradParameter` from ∂L/∂image (after `render`).
    func backward(_ gradImage: B.Tensor) throws {
        try backend.activationBackward(.sigmoid, input: logits, gradOutput: gradImage, gradInput: gradLogits)
        if let colorMatrix {
            try backend.conv2dBackwardInput(gradOutput: gradLogits, weight: colorMatrix, gradInput: gradLinear,
                                            parameters: Conv2DParameters())
        }
        if let spectral {
            try backend.irfft2Backward(gradOutput: gradLinear, scratch: spectral.scratch, gradSpectrum: spectral.gradScaled)
            try backend.binaryForward(.mul, spectral.gradScaled, spectral.scale, output: gradParameter)
        }
    }

    /// The blur's filters and scratch, built on its first use and reused by every later blur of the run.
    private enum BlurFilter {
        case spectral(response: B.Tensor)
        case separable(across: B.Tensor, down: B.Tensor, radius: Int, temporary: B.Tensor)
    }
    private var blurFilter: (sigma: Float, filter: BlurFilter)?

    /// Blurs the image the parameter describes by a Gaussian of `sigma` pixels, in place: for the FFT
    /// parameterization a multiplication by the Gaussian's frequency response, for pixels two 1-D convolutions.
    func blur(sigma: Float) throws {
        let filter: BlurFilter
        if let cached = blurFilter, cached.sigma == sigma {
            filter = cached.filter
        } else {
            filter = try makeBlurFilter(sigma: sigma)
            blurFilter = (sigma, filter)
        }
        switch filter {
        case .spectral(let response):
            try backend.binaryForward(.mul, parameter, response, output: parameter)
        case .separable(let across, let down, let radius, let temporary):
            let channels = imageShape[1]
            try backend.conv2dForward(
                input: parameter, weight: across, bias: nil, output: temporary,
                parameters: Conv2DParameters(padding: Padding2D(vertical: 0, horizontal: radius), groups: channels))
            try backend.conv2dForward(
                input: temporary, weight: down, bias: nil, output: parameter,
                parameters: Conv2DParameters(padding: Padding2D(vertical: radius, horizontal: 0), groups: channels))
        }
    }

    private func makeBlurFilter(sigma: Float) throws -> BlurFilter {
        if spectral != nil {
            return .spectral(response: try backend.upload(
                Self.gaussianResponse(height: imageShape[2], width: imageShape[3], sigma: sigma)))
        }
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        let taps = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +)
        let channels = imageShape[1]
        let kernel = taps.map { $0 / total }
        let across = try backend.upload(HostTensor(shape: [channels, 1, 1, taps.count],
                                                   values: Array((0..<channels).map { _ in kernel }.joined())))
        return .separable(across: across, down: try backend.reshaped(across, to: [channels, 1, taps.count, 1]),
                          radius: radius, temporary: try backend.makeTensor(imageShape))
    }

    /// exp(−2π²σ²f²) for each interleaved spectrum entry: a Gaussian blur of σ pixels in the frequency domain.
    static func gaussianResponse(height: Int, width: Int, sigma: Float) -> HostTensor {
        let columns = SpectrumGeometry.frequencyColumns(width: width)
        var values: [Float] = []
        for row in 0..<height {
            let fy = Double(row < (height + 1) / 2 ? row : row - height) / Double(height)
            for column in 0..<columns {
                let fx = Double(column) / Double(width)
                let response = Float(exp(-2 * Double.pi * Double.pi * Double(sigma * sigma) * (fx * fx + fy * fy)))
                values += [response, response]
            }
        }
        return HostTensor(shape: [1, 1, height, 2 * columns], values: values)
    }
}
