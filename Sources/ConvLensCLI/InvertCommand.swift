import ArgumentParser
import Foundation
import ImageIO
import ModelGraph
import TensorOps
import Visualization

/// `convlens invert`: what a layer keeps of an image — the image whose representation there matches the input's.
struct InvertCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert",
        abstract: "Feature inversion (Mahendran & Vedaldi): reconstruct an image from one layer's representation of it.",
        discussion: """
            Minimizes ‖Φ(x) − Φ(x₀)‖² / ‖Φ(x₀)‖² + λ_α·R_α(x) + λ_TV·R_TV(x) over the image x, where R_α is the \
            α-norm of x's pixels about the model's mean colour divided by H·W·B^α and R_TV the total variation \
            Σ((Δx)² + (Δy)²)^(β/2) divided by H·W·V^β (V = B/6.5, as M&V). The image is represented and \
            optimized as by `filters` (FFT with decorrelated colour for colour models, pixels for gray ones; Adam). \
            Several --layer options (or one --layers list) reconstruct from each layer at once, one image each in one \
            batch: the classic row from shallow to deep. The sheet shows the input (0) and the reconstructions (1…), \
            and the relative distance ‖Φ(x) − Φ(x₀)‖ / ‖Φ(x₀)‖ reached is printed per layer.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessingOptions

    @Option(help: "The image to invert: a PNG or JPEG, or a preprocessed 1×C×H×W .npy tensor (square).") var input: String
    @Option(help: "A layer to invert (an ONNX value or node name); repeat for several.") var layer: [String] = []
    @Option(help: ArgumentHelp("Layers to invert, comma-separated, shallow to deep.", valueName: "list")) var layers: String?
    @Option(parsing: .unconditional, help: "Optimization steps.") var steps = 300
    @Option(parsing: .unconditional, help: "Learning rate.") var lr: Float = 0.05
    @Option(help: "adam or sgd.") var optimizer = FilterVisualizationSettings.Optimizer.adam
    @Option(help: "pixel or fft (default: fft for colour models, pixel for gray ones).")
    var param: FilterVisualizationSettings.Parameterization?
    @Flag(inversion: .prefixedNo, help: "Decorrelate colour (default on for 3-channel models).") var decorrelate: Bool?
    @Option(parsing: .unconditional, help: "Random seed: the same seed on the same device gives the same bytes.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Largest random shift per step, in pixels (M&V's later natural pre-images).") var jitter = 0
    @Option(parsing: .unconditional, help: "α, the exponent of the norm prior.") var alpha = NaturalImagePrior().alpha
    @Option(parsing: .unconditional, help: "λ_α, the weight of the norm prior (M&V's 1/C; about 0.01 for MNIST-like strokes).")
    var alphaWeight = NaturalImagePrior().alphaWeight
    @Option(parsing: .unconditional, help: "β, the exponent of the total-variation prior.") var beta = NaturalImagePrior().beta
    @Option(parsing: .unconditional, help: "λ_TV, the weight of the total-variation prior.") var tvWeight = NaturalImagePrior().tvWeight
    @Option(parsing: .unconditional, help: "B, a pixel's typical distance from the mean colour in [0, 1] units (M&V: 80/255).")
    var bound = NaturalImagePrior().bound
    @Option(help: "The sheet to write (PNG): the input, then one reconstruction per layer.") var out: String
    @Option(help: "Also write the reconstructions (N×C×H×W float32 .npy, in [0, 1]).") var saveNpy: String?

    func validate() throws {
        try RasterImage.requirePNGName(out)  // before any work, not after it
        if allLayers.isEmpty { throw CommandError("give --layer (repeatable) or --layers") }
        if let problem = prior.problem { throw CommandError(problem) }
    }

    /// The --layers list, then each --layer.
    private var allLayers: [String] {
        (layers?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []) + layer
    }

    private var prior: NaturalImagePrior {
        NaturalImagePrior(alpha: alpha, alphaWeight: alphaWeight, beta: beta, tvWeight: tvWeight, bound: bound)
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let preprocess = try preprocessing.resolve(for: graph)
        let tensor = try ModelInputs.tensor(from: input, preprocessing: preprocess)
        guard tensor.shape.rank == 4, tensor.shape[0] == 1, tensor.shape[2] == tensor.shape[3] else {
            throw CommandError("invert needs one square image; '\(input)' gives \(tensor.shape) (set a square --size)")
        }
        var settings = FeatureInversionSettings(layers: allLayers, size: tensor.shape[2], mean: preprocess.mean, std: preprocess.std)
        settings.prior = prior
        settings.image.steps = steps
        settings.image.learningRate = lr
        settings.image.optimizer = optimizer
        settings.image.seed = seed
        settings.image.jitter = jitter
        if let param { settings.image.parameterization = param }
        if let decorrelate { settings.image.decorrelate = decorrelate }
        let inverter = try FeatureInverter(graph: graph, backend: backend, settings: settings, input: tensor)
        print("model: \(modelOptions.modelName); inverting \(settings.layers.count) layer(s) of \(tensor.shape[2]) px; "
              + "\(settings.image.parameterization.rawValue), \(optimizer.rawValue) \(lr), \(steps) steps; backend: \(backend.name)")
        let reporter = ProgressReporter()
        let start = Date()
        let result = try inverter.run { update in
            reporter.report(step: update.step, steps: update.steps,
                            detail: "distance " + update.distances.map { String(format: "%.3f", $0) }.joined(separator: " "))
        }
        print(String(format: "%.1f s (%.1f steps/s)", Date().timeIntervalSince(start),
                     Double(steps) / max(Date().timeIntervalSince(start), 1e-9)))
        for (index, name) in settings.layers.enumerated() {
            print(String(format: "%d: '%@': relative distance %.4f → %.4f", index + 1, name,
                         result.initialDistances[index], result.finalDistances[index]))
        }
        let unit = ImagePreprocessing.none(height: tensor.shape[2], width: tensor.shape[3], channels: tensor.shape[1])
        let tiles = [preprocess.image(from: tensor, index: 0)] + (0..<settings.layers.count).map { unit.image(from: result.images, index: $0) }
        try ContactSheet.render(tiles: tiles, labels: tiles.indices.map(String.init), columns: tiles.count).writePNG(to: out)
        print("wrote \(out)")
        if let saveNpy {
            try NPYFile.write(result.images, to: saveNpy)
            print("wrote \(saveNpy)")
        }
    }
}
