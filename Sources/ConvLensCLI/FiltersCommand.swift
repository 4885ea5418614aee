import ArgumentParser
import BackendParity
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
import TensorBoard
import TensorOps
import Visualization

/// `convlens filters`: for each chosen channel of a layer, the image that maximizes it.
struct FiltersCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters",
        abstract: "Render the input that maximizes each chosen channel of a layer (batched gradient ascent).",
        discussion: """
            All channels are optimized together as one batch on the device. Defaults follow Lucid: 128 px, Adam \
            0.05, 512 steps, jitter 8 px, scale 0.9–1.1, rotation ±10°, FFT parameterization with decorrelated \
            colour for 3-channel models (pixels for 1-channel models). Without --layer, the last convolution. \
            --param maco follows xplique's MaCo instead: the phase alone is optimized under a natural-image \
            magnitude spectrum, each step sees --crops random crops of each image (shrinking over the run) plus \
            noise; Adam 1, 256 steps.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var normalization: PreprocessingOptions

    @Option(help: "Layer to visualize: an ONNX value or node name (see `convlens info`).")
    var layer: String?
    @Option(help: ArgumentHelp("Channels: `all`, or indices and ranges such as 0-15 or 3,5,8-11.", valueName: "list"))
    var channels = ChannelSelection(argument: "0-15")!
    @Option(parsing: .unconditional, help: "Image size in pixels.") var size = 128
    @Option(parsing: .unconditional, help: "Optimization steps (per octave; default 512, MaCo 256).") var steps: Int?
    @Option(parsing: .unconditional, help: "Learning rate (default 0.05, MaCo 1).") var lr: Float?
    @Option(help: "adam or sgd.") var optimizer = FilterVisualizationSettings.Optimizer.adam
    @Option(parsing: .unconditional, help: "Random seed: the same seed on the same device gives the same bytes.") var seed: UInt64 = 0
    @Option(help: "channel (mean activation), neuron (centre position) or logit (class score).")
    var objective = FilterVisualizationSettings.Objective.channel
    @Flag(help: "Minimize instead of maximize.") var negative = false
    @Option(parsing: .unconditional, help: "Weight of the Gram-matrix diversity term across the batch.") var diversity: Float = 0
    @Option(parsing: .unconditional, help: "Largest random shift per step, in pixels.") var jitter = 8
    @Option(help: ArgumentHelp("Random scale range per step.", valueName: "MIN:MAX")) var scale = "0.9:1.1"
    @Option(parsing: .unconditional, help: "Largest random rotation per step, in degrees.") var rotate: Float = 10
    @Option(parsing: .unconditional, help: "Blur the image every K steps.") var blurEvery: Int?
    @Option(parsing: .unconditional, help: "Blur radius (Gaussian sigma) in pixels.") var blurSigma: Float = 0.5
    @Option(parsing: .unconditional, help: "Render at N sizes, smallest first, each result resized up to start the next.") var octaves = 1
    @Option(parsing: .unconditional, help: "Ratio between consecutive octave sizes; the last is --size.") var octaveScale: Float = 1.4
    @Option(parsing: .unconditional, help: "Weight of the L2 penalty towards mid-grey.") var l2: Float = 0
    @Option(parsing: .unconditional, help: "Weight of the total-variation penalty.") var tv: Float = 0
    @Option(help: "pixel, fft or maco (default: fft for colour models, pixel for gray ones).")
    var param: FilterVisualizationSettings.Parameterization?
    @Option(parsing: .unconditional, help: "MaCo: crops of each image per step.") var crops = 4
    @Option(help: ArgumentHelp("MaCo: crop side as a fraction of the image, shrinking from MAX to MIN over the run.",
                               valueName: "MIN:MAX")) var cropScale = "0.05:0.5"
    @Option(parsing: .unconditional, help: "MaCo: pixels of each crop as the network sees it (default: --size).") var cropSize: Int?
    @Option(parsing: .unconditional, help: "MaCo: noise added to each crop (σ, in [0, 1] image units).") var noise: Float = 0.04
    @Option(help: "MaCo: the magnitude spectrum (3×H×F .npy, as Tools/maco_spectrum.py writes; default: the embedded one).")
    var spectrum: String?
    @Option(help: "MaCo: also write each image's transparency map (accumulated |∂objective/∂image|) as a sheet (PNG).")
    var saveTransparency: String?
    @Flag(inversion: .prefixedNo, help: "Decorrelate colour (default on for 3-channel models).") var decorrelate: Bool?
    @Option(help: "The sheet to write (PNG).") var out: String
    @Option(help: "Also write the optimized inputs as the network saw them (N×C×H×W float32 .npy).") var saveNpy: String?
    @Flag(help: "Replay the same seeded run on the CPU reference and print the drift of the final images.")
    var compareCpu = false
    @Option(help: ArgumentHelp("Also log the run to this TensorBoard folder: each channel's objective every step, the images every --tensorboard-images steps and at the end (`tensorboard --logdir DIR`).", valueName: "dir"))
    var tensorboard: String?
    @Option(parsing: .unconditional, help: "With --tensorboard: steps between image summaries.") var tensorboardImages = 64

    func validate() throws {
        try RasterImage.requirePNGName(out)  // before any work, not after it
        _ = try scaleRange()
        _ = try Self.range(cropScale, "--crop-scale")
        if saveTransparency != nil && param != .maco {
            throw CommandError("--save-transparency needs --param maco")
        }
        if tensorboardImages < 1 { throw CommandError("--tensorboard-images must be at least 1, got \(tensorboardImages)") }
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let settings = try makeSettings(graph)
        print("model: \(modelOptions.modelName); layer '\(settings.layer)'; \(settings.channels.count) channels × "
              + "\(sizeDescription(settings)), \(settings.steps) steps\(settings.octaves > 1 ? " per octave" : ""), "
              + "\(settings.parameterization.rawValue) parameterization; "
              + "backend: \(backend.name)")
        let reporter = ProgressReporter()
        let visualizer = try FilterVisualizer(graph: graph, backend: backend, settings: settings)
        visualizer.notes.forEach { print($0) }
        let log = try tensorboard.map { try EventWriter(directory: $0) }
        // With a TensorBoard log every step reports (each channel's objective is one scalar per step); the terminal
        // still gets a line every 16.
        let result = try visualizer.run(reportInterval: log == nil ? 16 : 1, imageInterval: log == nil ? nil : tensorboardImages) {
            progress in
            if progress.step % 16 == 0 || progress.step == progress.steps {
                reporter.report(step: progress.step, steps: progress.steps, objective: progress.objective)
            }
            try log?.scalars(zip(settings.channels, progress.objectives).map { ("objective/channel_\($0)", Float($1)) },
                             step: progress.step)
            if let images = progress.images {
                // Tags are paths to TensorBoard: the layer's own leading slash would make an empty group.
                let tag = "filters/" + settings.layer.drop { $0 == "/" }
                try log?.images([(tag, sheet(images, channels: settings.channels))], step: progress.step)
            }
        }
        if let log { print("logged to \(log.path)") }
        let gain = zip(result.initialObjectives, result.finalObjectives).map { $1 - $0 }
        print(String(format: "objective: %.4g → %.4g (mean over channels; mean gain %.4g)",
                     mean(result.initialObjectives), mean(result.finalObjectives), mean(gain)))

        if compareCpu {
            try compareWithReference(graph: graph, settings: settings, result: result, backend: backend)
        }
        try writeSheet(result.images, channels: settings.channels, to: out)
        print("wrote \(out)")
        if let saveTransparency, let maps = result.transparencyMaps {
            try writeSheet(maps, channels: settings.channels, to: saveTransparency)
            print("wrote \(saveTransparency)")
        }
        if let saveNpy {
            try NPYFile.write(result.networkInputs, to: saveNpy)
            print("wrote \(saveNpy)")
        }
    }

    private func makeSettings(_ graph: Graph) throws -> FilterVisualizationSettings {
        let preprocessing = try normalization.resolve(for: graph)
        let layerName = try layer ?? lastConvolution(graph)
        let value = try graph.resolve(layerName)
        let channelShape = try? graph.inferShapes(input: [1, preprocessing.channels, size, size], through: value)[value]
        var settings = FilterVisualizationSettings(
            layer: layerName,
            channels: try channels.resolve(count: channelShape.flatMap { $0.rank > 1 ? $0[1] : nil } ?? 0,
                                           limit: FilterVisualizationSettings.maximumChannels),
            mean: preprocessing.mean, std: preprocessing.std)
        settings.size = size
        if let param { settings.parameterization = param }
        let maco = settings.parameterization == .maco
        settings.steps = steps ?? (maco ? 256 : 512)
        settings.learningRate = lr ?? (maco ? 1 : 0.05)
        settings.optimizer = optimizer
        settings.seed = seed
        settings.objective = objective
        settings.negative = negative
        settings.diversity = diversity
        settings.jitter = jitter
        settings.scaleRange = try scaleRange()
        settings.rotation = rotate
        settings.blurEvery = blurEvery
        settings.blurSigma = blurSigma
        settings.octaves = octaves
        settings.octaveScale = octaveScale
        settings.l2 = l2
        settings.tv = tv
        if let decorrelate { settings.decorrelate = decorrelate }
        if maco {
            settings.maco.crops = crops
            settings.maco.cropScale = try Self.range(cropScale, "--crop-scale")
            settings.maco.cropSize = cropSize
            settings.maco.noise = noise
            if let spectrum { settings.maco.magnitude = try MacoSpectrum.read(spectrum) }
        }
        try settings.validate()  // before anything (the summary line included) computes with them
        return settings
    }

    private func scaleRange() throws -> ClosedRange<Float> { try Self.range(scale, "--scale") }

    /// MIN:MAX with 0 < MIN <= MAX, both finite.
    private static func range(_ text: String, _ option: String) throws -> ClosedRange<Float> {
        let parts = text.split(separator: ":").map { Float($0) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low > 0, low <= high, high.isFinite else {
            throw ValidationError("\(option) must be MIN:MAX with 0 < MIN <= MAX, got '\(text)'")
        }
        return low...high
    }

    /// The default layer: the output of the last convolution.
    private func lastConvolution(_ graph: Graph) throws -> String {
        guard let node = graph.nodes.last(where: { if case .conv = $0.operation { true } else { false } }) else {
            throw CommandError("the model has no convolution; give --layer")
        }
        return node.output
    }

    private func compareWithReference<B: Backend>(graph: Graph, settings: FilterVisualizationSettings,
                                                  result: FilterVisualizationResult, backend: B) throws {
        guard !(backend is ReferenceBackend) else {
            print("--compare-cpu: this run already used the CPU reference")
            return
        }
        print("replaying on the CPU reference …")
        let reference = try FilterVisualizer(graph: graph, backend: ReferenceBackend(), settings: settings).run()
        let drift = ErrorMetrics(actual: result.images.values, expected: reference.images.values)
        print(String(format: "drift of the final images vs the CPU reference: max abs %.3e, rel L2 %.3e",
                     drift.maxAbsolute, drift.relativeL2))
    }

    private func writeSheet(_ images: HostTensor, channels: [Int], to path: String) throws {
        try sheet(images, channels: channels).writePNG(to: path)
    }

    /// The images ([0, 1], N×C×S×S) as a contact sheet labelled by channel.
    private func sheet(_ images: HostTensor, channels: [Int]) -> RasterImage {
        let unit = ImagePreprocessing.none(height: images.shape[2], width: images.shape[3], channels: images.shape[1])
        let tiles = (0..<images.shape[0]).map { unit.image(from: images, index: $0) }
        return ContactSheet.render(tiles: tiles, labels: channels.map(String.init))
    }

    private func sizeDescription(_ settings: FilterVisualizationSettings) -> String {
        settings.octaves > 1 ? "octaves " + settings.octaveSizes.map { "\($0)" }.joined(separator: "→") + " px" : "\(settings.size) px"
    }

    private func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
}

extension FilterVisualizationSettings.Parameterization: ExpressibleByArgument {}
extension FilterVisualizationSettings.Objective: ExpressibleByArgument {}
extension FilterVisualizationSettings.Optimizer: ExpressibleByArgument {}

