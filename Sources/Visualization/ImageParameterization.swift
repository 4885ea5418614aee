import Foundation
import TensorOps

/// The optimized variable and the differentiable path from it to an image in [0, 1]:
/// parameter → (FFT: × 1/frequency scale → inverse real DFT; MaCo: `MacoPhase`) → (optional colour decorrelation, a
/// 1×1 convolution) → + logit(mean colour) → sigmoid. Every stage runs on the backend; the buffers are allocated once.
///
/// The per-channel offset logit(start colour) centres the image on the model's mean colour, the image its
/// normalization maps to zero: a zero parameter renders the network's neutral input. (For ImageNet models that is
/// close to Lucid's mid-grey; for a model trained on dark backgrounds, such as MNIST, it is dark, where mid-grey would
/// already drive many channels hard.) Without a normalization it is mid-grey (`FilterVisualizationSettings.startColour`).
final class ImageParameterization<B: Backend> {
    let backend: B
    let imageShape: TensorShape
    /// What the optimizer updates.
    let parameter: B.Tensor
    let gradParameter: B.Tensor
    private let spectral: (scale: B.Tensor, scaled: B.Tensor, scratch: B.Tensor, gradScaled: B.Tensor)?
    /// MaCo's phase → standardized image stages.
    private let maco: MacoPhase<B>?
    private let colorMatrix: B.Tensor?
    /// Before the colour mixing (the inverse DFT's output, or the parameter itself).
    private let linear: B.Tensor
    /// Before the offset.
    private let logits: B.Tensor
    /// logit(mean) per channel, as the shift of a channel affine map with unit scale, and the sigmoid's input.
    private let offset: (scale: B.Tensor, shift: B.Tensor, centred: B.Tensor)
    private let gradLogits: B.Tensor
    private let gradLinear: B.Tensor
    /// The current image in [0, 1].
    let image: B.Tensor
    /// Adam's first and second moment estimates of the parameter.
    private let moments: (first: B.Tensor, second: B.Tensor)

    /// A parameterization for `imageShape` (N×C×S×S), started from `start` (a parameter of this shape, as
    /// `OctaveTransfer` makes one) or else from small seeded normal noise (Lucid: sd 0.01).
    init(backend: B, settings: FilterVisualizationSettings, imageShape: TensorShape, start: HostTensor?,
         random: inout SeededGenerator) throws {
        self.backend = backend
        self.imageShape = imageShape
        let parameterShape = switch settings.parameterization {
        case .pixel: imageShape
        case .fft: SpectrumGeometry.spectrumShape(for: imageShape)
        case .maco: MacoPhase<B>.phaseShape(for: imageShape)
        }
        precondition(start.map { $0.shape == parameterShape } ?? true, "start parameter of the wrong shape")
        // MaCo's phases start as standard normal noise (xplique), standardized by the first stage anyway.
        let scale: Float = settings.parameterization == .maco ? 1 : 0.01
        parameter = try backend.upload(start ?? .randomNormal(parameterShape, scale: scale, using: &random))
        switch settings.parameterization {
        case .pixel:
            (spectral, maco) = (nil, nil)
            linear = parameter
        case .fft:
            let scale = try backend.upload(ParameterizationTables.spectrumScale(height: imageShape[2], width: imageShape[3]))
            let scratch = try SpectrumGeometry(spectrum: parameterShape, image: imageShape).scratch
            spectral = (scale, try backend.makeTensor(parameterShape), try backend.makeTensor(scratch),
                        try backend.makeTensor(parameterShape))
            maco = nil
            linear = try backend.makeTensor(imageShape)
        case .maco:
            spectral = nil
            maco = try MacoPhase(backend: backend, table: try settings.maco.magnitude ?? MacoSpectrum.natural(),
                                 imageShape: imageShape)
            linear = try backend.makeTensor(imageShape)
        }
        if settings.decorrelate && imageShape[1] == 3 {
            colorMatrix = try backend.upload(HostTensor(shape: [3, 3, 1, 1], values: ParameterizationTables.colorCorrelation))
            logits = try backend.makeTensor(imageShape)
        } else {
            colorMatrix = nil
            logits = linear
        }
        offset = (try backend.upload(HostTensor(shape: [imageShape[1]], values: Array(repeating: 1, count: imageShape[1]))),
                  try backend.upload(HostTensor(shape: [imageShape[1]], values: settings.startColour.map { Float(ParameterizationTables.logit(Double($0))) })),
                  try backend.makeTensor(imageShape))
        image = try backend.makeTensor(imageShape)
        gradLogits = try backend.makeTensor(imageShape)
        gradLinear = colorMatrix == nil ? gradLogits : try backend.makeTensor(imageShape)
        // The pixel parameter is the linear image, so its gradient is the linear image's.
        gradParameter = settings.parameterization == .pixel ? gradLinear : try backend.makeTensor(parameterShape)
        moments = (try backend.makeTensor(parameterShape), try backend.makeTensor(parameterShape))
    }

    /// Computes `image` from the parameter.
    func render() throws {
        if let spectral {
            try backend.binaryForward(.mul, parameter, spectral.scale, output: spectral.scaled)
            try backend.irfft2Forward(spectrum: spectral.scaled, scratch: spectral.scratch, output: linear)
        }
        try maco?.render(phase: parameter, into: linear)
        if let colorMatrix {
            try backend.conv2dForward(input: linear, weight: colorMatrix, bias: nil, output: logits,
                                      parameters: Conv2DParameters())
        }
        try backend.channelAffineForward(input: logits, scale: offset.scale, shift: offset.shift, output: offset.centred)
        try backend.activationForward(.sigmoid, input: offset.centred, output: image)
    }

    /// ∂L/∂parameter into `gradParameter` from ∂L/∂image (after `render`).
    func backward(_ gradImage: B.Tensor) throws {
        // The offset's derivative is 1: the sigmoid's input gradient is the logits' gradient.
        try backend.activationBackward(.sigmoid, input: offset.centred, gradOutput: gradImage, gradInput: gradLogits)
        if let colorMatrix {
            try backend.conv2dBackwardInput(gradOutput: gradLogits, weight: colorMatrix, gradInput: gradLinear,
                                            parameters: Conv2DParameters())
        }
        if let spectral {
            try backend.irfft2Backward(gradOutput: gradLinear, scratch: spectral.scratch, gradSpectrum: spectral.gradScaled)
            try backend.binaryForward(.mul, spectral.gradScaled, spectral.scale, output: gradParameter)
        }
        try maco?.backward(phase: parameter, gradLinear: gradLinear, into: gradParameter)
    }

    /// One ascent step of `optimizer` on the parameter along `gradParameter` (after `backward`); `step` counts from 1.
    func ascend(step: Int, optimizer: FilterVisualizationSettings.Optimizer, learningRate: Float) throws {
        switch optimizer {
        case .adam:
            try backend.adamStep(parameter: parameter, gradient: gradParameter, firstMoment: moments.first,
                                 secondMoment: moments.second, step: step, AdamParameters(learningRate: learningRate))
        case .sgd:
            try backend.sgdStep(parameter: parameter, gradient: gradParameter, learningRate: learningRate)
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
                ParameterizationTables.gaussianResponse(height: imageShape[2], width: imageShape[3], sigma: sigma)))
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
}
