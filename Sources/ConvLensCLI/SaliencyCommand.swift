import ArgumentParser
import Foundation
import ImageIO
import ModelGraph
import TensorBoard
import TensorOps
import Visualization

/// `convlens saliency`: gradient attributions for one image.
struct SaliencyCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliency",
        abstract: "Gradient attributions (saliency, SmoothGrad, guided backprop, integrated gradients, occlusion, …).",
        discussion: """
            --save-npy writes the raw signed attribution (1×C×H×W) before any absolute value or normalization. \
            The picture shows the largest |attribution| over channels, min-max normalized and coloured over the image.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessingOptions

    @Option(help: "A PNG or JPEG image, or a preprocessed 1×C×H×W .npy tensor.") var input: String
    @Option(help: ArgumentHelp("One of: \(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "name")) var method = "gradient"
    @Option(name: .customLong("class"), parsing: .unconditional, help: "The class to explain (default: the top prediction).") var classIndex: Int?
    @Option(help: "Explain a feature map instead of a class: the layer (an ONNX value or node name), with --channel.")
    var layer: String?
    @Option(parsing: .unconditional, help: "The layer's channel to explain: its activation summed over positions, or at --position.")
    var channel: Int?
    @Option(help: ArgumentHelp("One position of the channel, row and column in the layer's activation.", valueName: "y,x"))
    var position: String?
    @Option(parsing: .unconditional, help: "SmoothGrad: noisy samples.") var samples = 25
    @Option(parsing: .unconditional, help: "SmoothGrad: noise σ as a fraction of the input's value range.") var noise: Float = 0.15
    @Option(parsing: .unconditional, help: "Integrated gradients: points on the path from the zero baseline.") var steps = 32
    @Option(parsing: .unconditional, help: "Occlusion: window side in pixels.") var window = 8
    @Option(parsing: .unconditional, help: "Occlusion: window stride in pixels.") var stride = 4
    @Option(parsing: .unconditional, help: "Images per batched forward (SmoothGrad, integrated gradients, occlusion).") var batch = 16
    @Option(parsing: .unconditional, help: "Random seed for SmoothGrad's noise.") var seed: UInt64 = 0
    @Option(help: "jet, turbo, viridis or inferno.") var colormap = "inferno"
    @Option(parsing: .unconditional, help: "Weight of the heat map over the image, 0–1.") var alpha: Float = 0.6
    @Option(help: "The picture to write (PNG).") var out: String
    @Option(help: "Also write the raw signed attribution (1×C×H×W float32 .npy).") var saveNpy: String?
    @Option(help: ArgumentHelp("Also log the picture to this TensorBoard folder as an image summary.", valueName: "dir"))
    var tensorboard: String?

    func validate() throws {
        try RasterImage.requirePNGName(out)  // before any work, not after it
        guard AttributionMethod(rawValue: method) != nil else {
            throw ValidationError("--method must be one of \(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", ")), got '\(method)'")
        }
        _ = try HeatMapPicture(colormapName: colormap, alpha: alpha)
        if (layer == nil) != (channel == nil) { throw ValidationError("--layer and --channel go together") }
        if layer != nil && classIndex != nil { throw ValidationError("give --class or --layer and --channel, not both") }
        if position != nil && layer == nil { throw ValidationError("--position needs --layer and --channel") }
    }

    /// The feature-map unit of --layer, --channel and --position, if given.
    private func unit() throws -> FeatureUnit? {
        guard let layer, let channel else { return nil }
        guard let position else { return FeatureUnit(layer: layer, channel: channel) }
        let parts = position.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let y = parts[0], let x = parts[1] else {
            throw CommandError("--position must be a row and a column, as 3,4; got '\(position)'")
        }
        return FeatureUnit(layer: layer, channel: channel, position: (y, x))
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let preprocess = try preprocessing.resolve(for: graph)
        let tensor = try ModelInputs.tensor(from: input, preprocessing: preprocess)
        var settings = AttributionSettings(method: AttributionMethod(rawValue: method) ?? .gradient)
        (settings.samples, settings.noise, settings.steps) = (samples, noise, steps)
        (settings.window, settings.stride, settings.batch, settings.seed) = (window, stride, batch, seed)
        settings.unit = try unit()
        let start = Date()
        let (attribution, target) = try GradientAttributor(graph: graph, backend: backend, settings: settings)
            .attribute(tensor, target: classIndex)
        try requireFinite(attribution, "attribution", input: input)
        let explained = settings.unit?.description ?? "class \(target)"
        print("model: \(modelOptions.modelName); \(settings.method.rawValue) for \(explained); backend: \(backend.name); "
              + String(format: "%.1f ms", Date().timeIntervalSince(start) * 1000))
        let picture = try HeatMapPicture(colormapName: colormap, alpha: alpha)
            .render(maps: try backend.upload(Self.magnitude(attribution)), over: tensor, preprocessing: preprocess,
                    labels: [String(target)], backend: backend)
        try picture.writePNG(to: out)
        print("wrote \(out)")
        if let tensorboard {
            let log = try EventWriter(directory: tensorboard)
            try log.images([("saliency/\(settings.method.rawValue)", picture)], step: 0)
            print("logged to \(log.path)")
        }
        if let saveNpy {
            try NPYFile.write(attribution, to: saveNpy)
            print("wrote \(saveNpy)")
        }
    }

    /// The largest |attribution| over channels at each pixel (Simonyan et al.), N×1×H×W, min-max normalized on
    /// the backend when the picture is drawn.
    static func magnitude(_ attribution: HostTensor) -> HostTensor {
        let (n, channels, h, w) = (attribution.shape[0], attribution.shape[1], attribution.shape[2], attribution.shape[3])
        let plane = h * w
        let values = (0..<n * plane).map { index in
            let (image, pixel) = index.quotientAndRemainder(dividingBy: plane)
            return (0..<channels).map { abs(attribution.values[(image * channels + $0) * plane + pixel]) }.max() ?? 0
        }
        return HostTensor(shape: [n, 1, h, w], values: values)
    }
}
