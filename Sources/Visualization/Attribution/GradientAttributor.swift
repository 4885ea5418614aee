import ModelGraph
import TensorOps

/// Gradient attributions for one image: which input values the class score is sensitive to. The sampled methods
/// (SmoothGrad, integrated gradients, occlusion) run their copies of the image as batches on the backend.
public final class GradientAttributor<B: Backend> {
    public let settings: AttributionSettings
    private let executor: GraphExecutor<B>
    private var backend: B { executor.backend }
    private var output: String { executor.graph.outputs[0] }

    public init(graph: Graph, backend: B, settings: AttributionSettings) throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw VisualizationError.badSetting(message) }
        }
        // Upper bounds far above any published setting (SmoothGrad uses 50 samples, integrated gradients 20–300
        // steps): a typo must not start a run of days.
        try require((1...10_000).contains(settings.samples), "--samples must be from 1 to 10000, got \(settings.samples)")
        try require(settings.noise >= 0 && settings.noise.isFinite, "--noise must be finite and not negative, got \(settings.noise)")
        try require((2...10_000).contains(settings.steps),
                    "--steps must be from 2 (the trapezoid rule needs both ends) to 10000, got \(settings.steps)")
        try require((1...TensorShape.maximumExtent).contains(settings.window) && (1...TensorShape.maximumExtent).contains(settings.stride),
                    "--window and --stride must be at least 1")
        try require((1...4096).contains(settings.batch), "--batch must be from 1 to 4096, got \(settings.batch)")
        if let unit = settings.unit {
            try require(settings.method != .guidedGradCAM, "guided-gradcam weighs by a class's Grad-CAM map; it does not explain a feature map")
            _ = try graph.resolve(unit.layer)  // names the nearest layers when it is unknown
        }
        self.settings = settings
        executor = try GraphExecutor(graph: graph, backend: backend)
        executor.foldsEpilogues = []  // only the input's gradient is read
    }

    /// The value the gradients start from: the model's output, or the unit's layer.
    private var objectiveValue: String {
        get throws { try settings.unit.map { try executor.graph.resolve($0.layer) } ?? output }
    }

    /// The forward pass of `inputs` up to the objective's value (the whole model, or the layers the unit needs).
    private func forwardToObjective(_ inputs: HostTensor) throws -> B.Tensor {
        settings.unit == nil ? try executor.forward(inputs) : try executor.forward(try backend.upload(inputs), through: try objectiveValue)
    }

    /// The objective per image of `inputs`: the target's score, or the unit's value.
    private func objectives(_ inputs: HostTensor, target: Int) throws -> [Float] {
        if let unit = settings.unit { return unit.values(try backend.download(try forwardToObjective(inputs))) }
        let scores = try backend.download(try executor.forwardOutput(inputs))
        return (0..<scores.shape[0]).map { scores.values[$0 * scores.shape[1] + target] }
    }

    /// The raw signed attribution (1×C×H×W, before any absolute value or normalization) of `input` (1×C×H×W,
    /// preprocessed) for `target` (nil: the top class), and the class explained.
    public func attribute(_ input: HostTensor, target: Int?) throws -> (attribution: HostTensor, target: Int) {
        guard input.shape.rank == 4, input.shape[0] == 1 else {
            throw VisualizationError.badSetting("attributions explain one image at a time, got \(input.shape)")
        }
        let scores = try backend.download(try forwardToObjective(input))
        // A NaN score can still give a finite gradient (ReLU's backward masks it away, as PyTorch's does): an
        // explanation of an output that is not a number is refused here, naming the node that produced it.
        try executor.requireFinite(scores)
        // A unit's seed checks its channel and position against the layer now, before any batch runs.
        let target = try settings.unit.map { _ = try $0.seed(shape: scores.shape); return $0.channel } ?? checkedTarget(target, scores: scores)
        switch settings.method {
        case .gradient:
            return (try gradients(of: input, target: target), target)
        case .inputXGradient:
            let gradient = try gradients(of: input, target: target)
            return (HostTensor(shape: input.shape, values: zip(gradient.values, input.values).map(*)), target)
        case .guidedBackprop, .deconvnet:
            return (try modifiedGradients(of: input, target: target), target)
        case .guidedGradCAM:
            return (try guidedGradCAM(input, target: target), target)
        case .smoothGrad:
            return (try smoothGrad(input, target: target), target)
        case .integratedGradients:
            return (try integratedGradients(input, target: target), target)
        case .occlusion:
            return (try occlusion(input, target: target, baseline: settings.unit?.values(scores)[0] ?? scores.values[target]), target)
        }
    }

    private func checkedTarget(_ requested: Int?, scores: HostTensor) throws -> Int {
        guard scores.shape.rank == 2 else {
            throw VisualizationError.badSetting("the model's output \(scores.shape) is not N×classes")
        }
        let count = scores.shape[1]
        let target = requested ?? scores.values.indices.max { scores.values[$0] < scores.values[$1] } ?? 0
        guard (0..<count).contains(target) else {
            throw VisualizationError.badSetting("class \(target) is outside the model's \(count) outputs (0–\(count - 1))")
        }
        return target
    }

    /// ∂objective[n]/∂input[n] for every image of the batch `inputs` (N×C×H×W) — the score of `target`, or the
    /// unit — each image's seed weighted by `weights[n]` (1 when not given).
    private func gradients(of inputs: HostTensor, target: Int, weights: [Float]? = nil) throws -> HostTensor {
        let scores = try forwardToObjective(inputs)
        var seed: HostTensor
        if let unit = settings.unit {
            seed = try unit.seed(shape: scores.shape, weights: weights)
        } else {
            let (images, count) = (scores.shape[0], scores.shape[1])
            seed = HostTensor(zeros: scores.shape)
            for image in 0..<images { seed.values[image * count + target] = weights?[image] ?? 1 }
        }
        let input = executor.graph.input.name
        guard let gradient = try executor.backward(from: try objectiveValue, seed: try backend.upload(seed), to: [input])[input] else {
            throw VisualizationError.badSetting("no gradient reached the input")
        }
        return try backend.download(gradient)
    }

    /// The gradient with deconvnet ReLUs for `.deconvnet`, guided-backpropagation ReLUs otherwise.
    private func modifiedGradients(of input: HostTensor, target: Int) throws -> HostTensor {
        executor.reluGradient = settings.method == .deconvnet ? .deconvnet : .guided
        defer { executor.reluGradient = .standard }
        return try gradients(of: input, target: target)
    }

    /// Guided backpropagation ⊙ the Grad-CAM map of the last layer with spatial extent (broadcast over channels).
    private func guidedGradCAM(_ input: HostTensor, target: Int) throws -> HostTensor {
        let guided = try modifiedGradients(of: input, target: target)
        let mapper = try ClassActivationMapper(graph: executor.graph, backend: backend, layers: [], method: .gradCAM,
                                               inputShape: input.shape)
        let map = try backend.download(try mapper.explain(try backend.upload(input), classes: [target]).maps)
        let plane = map.values.count
        return HostTensor(shape: input.shape, values: guided.values.enumerated().map { $1 * map.values[$0 % plane] })
    }

    /// The mean gradient over `samples` copies with seeded Gaussian noise of σ = noise · (max − min of the input).
    private func smoothGrad(_ input: HostTensor, target: Int) throws -> HostTensor {
        let sigma = Double(settings.noise) * Double((input.values.max() ?? 0) - (input.values.min() ?? 0))
        var random = SeededGenerator(seed: settings.seed)
        var total = [Float](repeating: 0, count: input.shape.count)
        for chunk in chunks(settings.samples) {
            var values: [Float] = []
            values.reserveCapacity(chunk.count * input.values.count)
            for _ in chunk { values += input.values.map { $0 + Float(sigma * random.nextNormal()) } }
            let batch = HostTensor(shape: TensorShape([chunk.count] + input.shape.dimensions.dropFirst()), values: values)
            accumulate(try gradients(of: batch, target: target), into: &total)
        }
        return HostTensor(shape: input.shape, values: total.map { $0 / Float(settings.samples) })
    }

    /// Captum's `riemann_trapezoid`: α_i evenly spaced over [0, 1] (ends included), step weights 1/n halved at both
    /// ends (Captum's choice: they sum to (n − 1)/n); attribution = input ⊙ Σ_i w_i ∂score/∂input at α_i · input
    /// (zero baseline).
    private func integratedGradients(_ input: HostTensor, target: Int) throws -> HostTensor {
        let n = settings.steps
        let alphas = (0..<n).map { Float($0) / Float(n - 1) }
        let weights = (0..<n).map { $0 == 0 || $0 == n - 1 ? 0.5 / Float(n) : 1 / Float(n) }
        var total = [Float](repeating: 0, count: input.shape.count)
        for chunk in chunks(n) {
            let values = chunk.flatMap { step in input.values.map { alphas[step] * $0 } }
            let batch = HostTensor(shape: TensorShape([chunk.count] + input.shape.dimensions.dropFirst()), values: values)
            accumulate(try gradients(of: batch, target: target, weights: chunk.map { weights[$0] }), into: &total)
        }
        return HostTensor(shape: input.shape, values: zip(total, input.values).map(*))
    }

    /// Captum's occlusion with a zero baseline: windows (all channels, `window`² pixels) start every `stride`
    /// pixels, ⌈(D − window)/stride⌉ + 1 per axis, the last one clipped at the edge; each contributes
    /// score(input) − score(occluded) to the pixels it covers, and each pixel gets the mean over its windows.
    private func occlusion(_ input: HostTensor, target: Int, baseline: Float) throws -> HostTensor {
        let (channels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let (window, stride) = (min(settings.window, height, width), settings.stride)
        func starts(_ size: Int) -> [Int] {
            (0...((size - window + stride - 1) / stride)).map { $0 * stride }
        }
        let origins = starts(height).flatMap { top in starts(width).map { left in (top, left) } }
        var total = [Float](repeating: 0, count: height * width), covered = total
        for chunk in chunks(origins.count) {
            var values: [Float] = []
            values.reserveCapacity(chunk.count * input.values.count)
            for index in chunk {
                let (top, left) = origins[index]
                var copy = input.values
                for channel in 0..<channels {
                    for y in top..<min(top + window, height) {
                        for x in left..<min(left + window, width) { copy[(channel * height + y) * width + x] = 0 }
                    }
                }
                values += copy
            }
            let batch = HostTensor(shape: [chunk.count, channels, height, width], values: values)
            let scores = try objectives(batch, target: target)
            for (row, index) in chunk.enumerated() {
                let drop = baseline - scores[row]
                let (top, left) = origins[index]
                for y in top..<min(top + window, height) {
                    for x in left..<min(left + window, width) {
                        total[y * width + x] += drop
                        covered[y * width + x] += 1
                    }
                }
            }
        }
        let plane = zip(total, covered).map { $1 > 0 ? $0 / $1 : 0 }
        return HostTensor(shape: input.shape, values: (0..<channels).flatMap { _ in plane })
    }

    /// 0..<count in runs of at most `settings.batch`.
    private func chunks(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: settings.batch).map { $0..<min($0 + settings.batch, count) }
    }

    /// Adds each image of `batch` (N×C×H×W) into `total` (C×H×W values).
    private func accumulate(_ batch: HostTensor, into total: inout [Float]) {
        for (index, value) in batch.values.enumerated() { total[index % total.count] += value }
    }
}
