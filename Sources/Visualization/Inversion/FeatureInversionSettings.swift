import TensorOps

/// What shapes a feature-inversion run: the layers to match, Mahendran & Vedaldi's priors, and the image's
/// representation, optimizer and schedule — the filter-visualization engine's own (`image`), one image per layer.
public struct FeatureInversionSettings: Sendable {
    /// The layers whose representation each reconstruction matches, one image per layer, all optimized together.
    public var layers: [String]
    public var prior = NaturalImagePrior()
    /// Parameterization, optimizer, learning rate, steps, seed, jitter and the model's normalization. Its `layer`,
    /// `objective` and transforms other than jitter are unused; `channels` numbers the images (one per layer);
    /// `size` is the input image's side.
    public var image: FilterVisualizationSettings

    /// Defaults for `layers` of a model with `mean.count`-channel inputs of `size` px: the filter engine's
    /// parameterization (FFT with decorrelated colour for colour models, pixels for gray ones) and Adam at 0.05,
    /// 300 steps, no random transforms (M&V's CVPR 2015 inversion uses none; `jitter` adds their later paper's).
    public init(layers: [String], size: Int, mean: [Float], std: [Float]) {
        self.layers = layers
        image = FilterVisualizationSettings(layer: layers.first ?? "", channels: Array(layers.indices), mean: mean, std: std)
        image.size = size
        image.steps = 300
        image.jitter = 0
        image.scaleRange = 1...1
        image.rotation = 0
    }

    /// - Throws: `VisualizationError.badSetting` naming the option.
    func validate() throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw VisualizationError.badSetting(message) }
        }
        try require(!layers.isEmpty, "no layer to invert")
        try require(layers.count <= 64, "\(layers.count) layers in one run; at most 64")
        try require(image.channels == Array(layers.indices), "one image per layer")
        try require(image.parameterization != .maco, "--param maco optimizes random crops; inversion matches the whole image (use pixel or fft)")
        try require(image.octaves == 1 && image.blurEvery == nil && image.diversity == 0 && image.l2 == 0 && image.tv == 0,
                    "inversion has no octaves, blur, diversity or filter penalties; its priors are --alpha-weight and --tv-weight")
        try require(image.scaleRange == 1...1 && image.rotation == 0, "inversion's only random transform is --jitter")
        if let problem = prior.problem { throw VisualizationError.badSetting(problem) }
        try image.validate()
    }
}
