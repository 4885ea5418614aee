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

    /// Every one of the 64 channels at least doubles its distance from zero, ending positive — a channel starting at
    /// a ends at ≥ a + max(|a|, 1) — and the mean over channels rises more than tenfold. (The issue's "10× its
    /// start" per channel is out of reach: on the neutral start several channels already sit at 5–8, and the best
    /// image in [0, 1] takes them to about 20.) The transforms are off: this checks the ascent itself.
    @Test func everyChannelOfTheLastConvolutionRises() throws {
        var s = settings(channels: Array(0..<64), size: 28, steps: 128)
        s.learningRate = 0.1
        (s.jitter, s.rotation, s.scaleRange) = (0, 0, 1...1)
        let result = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        for (channel, (before, after)) in zip(result.initialObjectives, result.finalObjectives).enumerated() {
            #expect(after - before >= max(abs(before), 1), "channel \(channel): \(before) → \(after)")
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

    /// Three octaves (24 → 34 → 48 px): each octave starts from the last one's image, and the run stays seeded.
    @Test func octavesCarryTheImageUpAndStaySeeded() throws {
        var s = settings(channels: [2, 7], size: 48, steps: 8)
        (s.octaves, s.octaveScale) = (3, 1.4)
        #expect(s.octaveSizes == [24, 34, 48])
        let first = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        let second = try FilterVisualizer(graph: graph, backend: try TestBackends.device(), settings: s).run()
        #expect(first.images.shape == [2, 1, 48, 48])
        #expect(first.images.values.map(\.bitPattern) == second.images.values.map(\.bitPattern))
        #expect(zip(first.initialObjectives, first.finalObjectives).allSatisfy { $1 > $0 })
    }

    /// One NaN weight in the first convolution makes every objective NaN: the run stops before its first step,
    /// naming the channel and the node that produced the NaN (the model's fault, not the step size's), on both backends.
    @Test func aNaNWeightStopsTheRunNamingItsNode() throws {
        var poisoned = graph
        let first = try #require(graph.nodes.first { $0.opType.hasPrefix("Conv") })  // BatchNormalization folded in
        try #require(poisoned.constants[first.inputs[1]] != nil)
        poisoned.constants[first.inputs[1]]!.values[0] = .nan
        func check<B: Backend>(_ backend: B) throws {
            let visualizer = try FilterVisualizer(graph: poisoned, backend: backend, settings: settings(channels: [4, 9]))
            let error = try #require(throws: VisualizationError.self) { try visualizer.run() }
            let expected = "the objective became NaN or infinite by step 0 for channel 4: "
                + "node '\(first.name)' (\(first.opType)) is the first to produce NaN"
            #expect(error.description.hasPrefix(expected), "\(backend.name): \(error)")
        }
        try check(try TestBackends.device())
        try check(ReferenceBackend())
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

        // Below the last convolution's theoretical receptive field (24 px) a size runs, with a note per octave:
        // 8 → 16 → 32 px notes the first two.
        s = settings(channels: [0], size: 32)
        (s.octaves, s.octaveScale) = (3, 2)
        let notes = try FilterVisualizer(graph: graph, backend: backend, settings: s).notes
        #expect(notes.count == 2 && notes[0].hasPrefix("note: 8 px is below the theoretical receptive field"))
        s.size = 28
        let tiny = try #require(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(tiny.description.hasPrefix("the smallest octave is 7 px"))
        s.octaveScale = 1
        let scale = try #require(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(scale.description == "--octave-scale must be above 1 (at most 16), got 1.0")

        s = settings(channels: Array(0..<64), size: 1400)
        let huge = try #require(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(huge.description.hasPrefix("this run needs about "), "\(huge)")
        s.size = 4096
        let past = try #require(throws: VisualizationError.self) { try FilterVisualizer(graph: graph, backend: backend, settings: s) }
        #expect(past.description.hasPrefix("this run needs more than any device holds: node '/features/features.0/Conv'"),
                "\(past)")
    }
}

/// The FFT parameterization's pieces on both backends.
@Suite("Image parameterization")
struct ImageParameterizationTests {
    /// The device's inverse DFT and its adjoint satisfy ⟨irfft2(S), y⟩ = ⟨S, irfft2ᵀ(y)⟩ at a filter
    /// visualization's size and at an odd one, computed in Double from the downloaded results.
    @Test(.enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: [(128, 128), (37, 50)])
    func theDeviceAdjointIdentityHolds(height: Int, width: Int) throws {
        let backend = try TestBackends.device()
        let image: TensorShape = [2, 3, height, width]
        let g = try SpectrumGeometry(spectrum: SpectrumGeometry.spectrumShape(for: image), image: image)
        var random = SeededGenerator(seed: 43)
        let spectrum = HostTensor.randomNormal(g.spectrum, using: &random), y = HostTensor.randomNormal(image, using: &random)
        let scratch = try backend.makeTensor(g.scratch)
        let x = try backend.makeTensor(image), adjoint = try backend.makeTensor(g.spectrum)
        try backend.irfft2Forward(spectrum: try backend.upload(spectrum), scratch: scratch, output: x)
        try backend.irfft2Backward(gradOutput: try backend.upload(y), scratch: scratch, gradSpectrum: adjoint)
        func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        let left = dot(try backend.download(x).values, y.values)
        let right = dot(spectrum.values, try backend.download(adjoint).values)
        #expect(abs(left - right) <= 1e-5 * max(abs(left), abs(right)), "⟨irfft2 S, y⟩ \(left), ⟨S, irfft2ᵀ y⟩ \(right)")
    }

    @Test(arguments: [(8, 10), (7, 9), (16, 16)])
    func theInverseDFTRoundTripsAnImage(height: Int, width: Int) throws {
        var random = SeededGenerator(seed: 41)
        let image = random.normals(height * width)
        let spectrum = OctaveTransfer.rfft2(image, shape: [1, 1, height, width])
        let shape: TensorShape = [1, 1, height, width]
        let g = try SpectrumGeometry(spectrum: SpectrumGeometry.spectrumShape(for: shape), image: shape)
        expectClose(ReferenceMath.irfft2Forward(spectrum: spectrum, g), image, relativeL2: 1e-12, "reference round trip")
        if TestBackends.hasOpenCL {
            let backend = try TestBackends.device()
            let output = try backend.makeTensor(shape)
            try backend.irfft2Forward(
                spectrum: try backend.upload(HostTensor(shape: g.spectrum, values: spectrum.map { Float($0) })),
                scratch: try backend.makeTensor(g.scratch), output: output)
            expectClose(try backend.download(output).values.map(Double.init), image,
                        relativeL2: Tolerance.deviceVsReference, "device round trip")
        }
    }

    /// `OctaveTransfer` inverts the parameterization: rendering the parameter it makes for an image at the same
    /// size gives the image back, for every parameterization.
    @Test(arguments: [(FilterVisualizationSettings.Parameterization.pixel, false), (.fft, false), (.fft, true)])
    func theOctaveTransferInvertsTheParameterization(parameterization: FilterVisualizationSettings.Parameterization,
                                                     decorrelate: Bool) throws {
        var settings = FilterVisualizationSettings(layer: "x", channels: [0, 1], mean: [0.485, 0.456, 0.406],
                                                   std: [0.229, 0.224, 0.225])
        (settings.parameterization, settings.decorrelate) = (parameterization, decorrelate)
        var random = SeededGenerator(seed: 5)
        let shape: TensorShape = [2, 3, 12, 10]
        let image = HostTensor(shape: shape, values: (0..<shape.count).map { _ in Float(0.05 + 0.9 * random.nextUniform()) })
        let start = OctaveTransfer.parameter(for: image, size: 12, settings: settings)
        #expect(start.shape == (parameterization == .fft ? SpectrumGeometry.spectrumShape(for: [2, 3, 12, 12]) : [2, 3, 12, 12]))
        // A 12×10 image resized to 12×12, then rendered: compare with the resize itself.
        let backend = ReferenceBackend()
        let rendered = try ImageParameterization(backend: backend, settings: settings, imageShape: [2, 3, 12, 12],
                                                 start: start, random: &random)
        try rendered.render()
        let expected = (0..<6).flatMap { plane in
            resizeBilinear(Array(image.values[plane * 120..<(plane + 1) * 120]), height: 12, width: 10, toHeight: 12, toWidth: 12)
        }
        expectClose(try backend.download(rendered.image).values.map(Double.init), expected.map(Double.init),
                    relativeL2: Tolerance.deviceVsReference, "rendered transfer")
    }

    @Test func lucidsSpectrumScaleAndColourMatrix() {
        // 1/max(f, 1/max(H, W)) · √(H·W) / 4: the DC term uses the floor frequency 1/max(H, W).
        let scale = ParameterizationTables.spectrumScale(height: 8, width: 8)
        #expect(abs(scale.values[0] - Float(8.0 * 8.0 / 4)) < 1e-4)
        #expect(scale.shape == [1, 1, 8, 10])
        let matrix = ParameterizationTables.colorCorrelation
        let largestColumn = (0..<3).map { c in (0..<3).map { matrix[$0 * 3 + c] * matrix[$0 * 3 + c] }.reduce(0, +) }.max()
        #expect(abs((largestColumn ?? 0) - 1) < 1e-6)
    }
}
