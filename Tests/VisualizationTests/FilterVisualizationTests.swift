import BackendParity
import BundledModel
import Foundation
import ModelGraph
import OpenCLBackend
import ReferenceBackend
import TensorOps
import TestSupport
import Testing
@testable import Visualization

/// Filter visualization on the bundled model, on the device.
@Suite("Filter visualization", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct FilterVisualizationTests {
    let graph: Graph
    /// The last convolution (its BatchNormalization folded in): the default layer of `convlens filters`.
    let lastConvolution = "/features/features.14/Conv"

    init() throws {
        graph = try ONNXImporter.load(data: BundledModel.onnxData, source: BundledModel.name)
    }

    func settings(channels: [Int], size: Int = 32, steps: Int = 4) -> FilterVisualizationSettings {
        var settings = FilterVisualizationSettings(layer: lastConvolution, channels: channels, mean: [0.1307], std: [0.3081])
        settings.size = size
        settings.steps = steps
        return settings
    }

    /// Every one of the 64 channels ends above where it started (by more than rounding could explain); their mean
    /// rises more than tenfold. (Per channel, 10× is out of reach in a short run: many channels start negative or
    /// already strongly driven by the near-uniform grey start, and the image is bounded to [0, 1].)
    @Test func everyChannelOfTheLastConvolutionRises() throws {
        var s = settings(channels: Array(0..<64), size: 32, steps: 48)
        s.learningRate = 0.1
        let result = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        for (channel, (before, after)) in zip(result.initialObjectives, result.finalObjectives).enumerated() {
            #expect(after - before > 0.1, "channel \(channel): \(before) → \(after)")
        }
        let mean = { (values: [Double]) in values.reduce(0, +) / Double(values.count) }
        #expect(mean(result.finalObjectives) > 10 * abs(mean(result.initialObjectives)),
                "mean \(mean(result.initialObjectives)) → \(mean(result.finalObjectives))")
    }

    @Test(arguments: [FilterVisualizationSettings.Parameterization.pixel, .fft])
    func aSeededRunRepeatsByteForByte(parameterization: FilterVisualizationSettings.Parameterization) throws {
        var s = settings(channels: [1, 5, 9], size: 24, steps: 6)
        s.parameterization = parameterization
        s.tv = 0.01
        s.blurEvery = 3
        let first = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        let second = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        #expect(first.images.values.map(\.bitPattern) == second.images.values.map(\.bitPattern))
        #expect(first.networkInputs.shape == [3, 1, 24, 24])
        s.seed = 1
        let other = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        #expect(other.images.values != first.images.values)
    }

    /// The device run and its replay on the reference agree (what `--compare-cpu` reports).
    @Test func theReferenceReplaysTheDeviceRun() throws {
        var s = settings(channels: [0, 3], size: 24, steps: 3)
        s.parameterization = .fft
        let device = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        let reference = try FilterVisualizer(graph: graph, backend: ReferenceBackend(), settings: s).run()
        expectClose(device.images.values, reference.images.values, relativeL2: Tolerance.modelVsONNXRuntime,
                    "final images")
    }

    @Test func badRequestsAreRefusedWithReasons() throws {
        let backend = try TestBackends.device()
        var s = settings(channels: [64])
        #expect(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        let range = try #require(throws: VisualizationError.self) {
            try FilterVisualizer(graph: graph, backend: backend, settings: s)
        }
        #expect(range.description == "channel 64 is out of range: layer '\(lastConvolution)' has channels 0–63")

        s = settings(channels: [0])
        s.layer = "/features/features.14/Cnv"
        let missing = try #require(throws: ModelError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(missing.description.hasPrefix("layer '/features/features.14/Cnv' not found; nearest: '/features/features.14/Conv'"))

        s = settings(channels: [0], size: 16)
        let small = try #require(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(small.description.hasPrefix("image size 16 is below the receptive field of '\(lastConvolution)' (24 px)"))

        s = settings(channels: Array(0..<64), size: 4096)
        let huge = try #require(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(huge.description.hasPrefix("this run needs about "))
    }
}

/// The FFT parameterization's pieces on both backends.
@Suite("Image parameterization")
struct ImageParameterizationTests {
    /// A forward real DFT in Double (numpy.fft.rfft2): the inverse the tests round-trip through.
    static func rfft2(_ image: [Double], height: Int, width: Int) -> [Double] {
        let columns = width / 2 + 1
        var spectrum = [Double](repeating: 0, count: height * columns * 2)
        for j in 0..<height {
            for k in 0..<columns {
                for h in 0..<height {
                    for w in 0..<width {
                        let angle = -2 * Double.pi * (Double(j * h) / Double(height) + Double(k * w) / Double(width))
                        spectrum[(j * columns + k) * 2] += image[h * width + w] * cos(angle)
                        spectrum[(j * columns + k) * 2 + 1] += image[h * width + w] * sin(angle)
                    }
                }
            }
        }
        return spectrum
    }

    @Test(arguments: [(8, 10), (7, 9), (16, 16)])
    func theInverseDFTRoundTripsAnImage(height: Int, width: Int) throws {
        var random = SeededGenerator(seed: 41)
        let image = random.normals(height * width)
        let spectrum = Self.rfft2(image, height: height, width: width)
        let shape: TensorShape = [1, 1, height, width]
        let g = try SpectrumGeometry(spectrum: SpectrumGeometry.spectrumShape(for: shape), image: shape)
        expectClose(ReferenceMath.irfft2Forward(spectrum: spectrum, g), image, relativeL2: 1e-12, "reference round trip")
        if TestBackends.hasOpenCL {
            let backend = try TestBackends.device()
            let output = try backend.makeTensor(shape)
            try backend.irfft2Forward(
                spectrum: try backend.upload(HostTensor(shape: g.spectrum, values: spectrum.map { Float($0) })),
                scratch: try backend.makeTensor(g.spectrum), output: output)
            expectClose(try backend.download(output).values.map(Double.init), image,
                        relativeL2: Tolerance.deviceVsReference, "device round trip")
        }
    }

    @Test func lucidsSpectrumScaleAndColourMatrix() {
        // 1/max(f, 1/max(H, W)) · √(H·W) / 4: the DC term uses the floor frequency 1/max(H, W).
        let scale = ImageParameterization<ReferenceBackend>.spectrumScale(height: 8, width: 8)
        #expect(abs(scale.values[0] - Float(8.0 * 8.0 / 4)) < 1e-4)
        #expect(scale.shape == [1, 1, 8, 10])
        let matrix = ImageParameterization<ReferenceBackend>.colorCorrelation
        let largestColumn = (0..<3).map { c in (0..<3).map { matrix[$0 * 3 + c] * matrix[$0 * 3 + c] }.reduce(0, +) }.max()
        #expect(abs((largestColumn ?? 0) - 1) < 1e-6)
    }
}
