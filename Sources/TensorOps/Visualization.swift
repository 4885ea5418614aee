import Foundation

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

    /// The maps whose `values` lie one after another in `values` (a maps tensor's elements).
    public static func maps(from values: [Float]) -> [AffineMap] {
        stride(from: 0, to: values.count - 5, by: 6).map { i in
            AffineMap(a: values[i], b: values[i + 1], tx: values[i + 2], c: values[i + 3], d: values[i + 4], ty: values[i + 5])
        }
    }

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

// MARK: - Descriptor

/// The transform, regularizer and optimizer family of filter visualization (Kernels/image.cl, optim.cl, diversity.cl;
/// `OpenCLBackend+Visualization`, `ReferenceMath+Visualization`).
public enum VisualizationOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        AffineResampleCase(shape: [3, 2, 11, 13], output: [3, 2, 11, 13], fill: 0.5, scales: 0.9...1.1, degrees: 10),
        // Strong zooms both ways and large rotations, where the backward's search box is widest.
        AffineResampleCase(shape: [4, 3, 17, 15], output: [4, 3, 17, 15], fill: 0.5, scales: 0.3...2.5, degrees: 45),
        // MaCo's crops: 3 per image, magnified to another size.
        AffineResampleCase(shape: [2, 3, 16, 18], output: [6, 3, 9, 11], fill: 0, scales: 1.2...3, degrees: 0),
        ImagePenaltyCase(shape: [2, 3, 7, 8], l2: 0.5, tv: 0.25),
        // M&V's own exponents, then odd ones where |u|^(α−1) and the TV's root are not polynomials.
        NaturalImagePriorCase(shape: [2, 3, 9, 7], prior: NaturalImagePrior(alpha: 6, alphaWeight: 0.5, beta: 2, tvWeight: 0.25, bound: 0.6)),
        NaturalImagePriorCase(shape: [1, 2, 6, 11], prior: NaturalImagePrior(alpha: 2.5, alphaWeight: 1, beta: 1.5, tvWeight: 2, bound: 0.5)),
        // SS-CAM's noise: a stream that starts mid-way, and one whose counter's low word wraps within the tensor.
        SeededNormalCase(shape: [3, 1, 17, 19], generatorSeed: 7, firstNormal: 123_456_789, scale: 2),
        SeededNormalCase(shape: [2, 5, 9], generatorSeed: 0xFFFF_FFFF_0000_0001, firstNormal: 0x7FFF_FFF0, scale: 0.3),
        AdamCase(count: 257, AdamParameters(learningRate: 0.05)),
        SGDCase(count: 257, learningRate: 0.1),
        DiversityCase(activation: [3, 5, 4, 6], weight: 0.7),
        DiversityCase(activation: [9, 2, 3, 3], weight: 1),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        AffineResampleCase(shape: [2, 1, 7, 8], output: [2, 1, 7, 8], fill: 0.5, scales: 0.7...1.4, degrees: 30),
        AffineResampleCase(shape: [1, 2, 8, 6], output: [3, 2, 5, 4], fill: 0, scales: 1.2...2, degrees: 0),
    ]
}

/// Random maps: scales drawn from `scales`, rotations within ±`degrees`, shifts within ±3 px; `output` holds K
/// resamplings of each image of `shape` (K = 1: the same shape). The maps are an input without a gradient.
public struct AffineResampleCase: DifferentiableOpCase {
    public let geometry: AffineResampleGeometry
    public let fill: Float
    public let scales: ClosedRange<Float>
    public let degrees: Float

    init(shape: TensorShape, output: TensorShape, fill: Float, scales: ClosedRange<Float>, degrees: Float) {
        geometry = try! AffineResampleGeometry(input: shape, maps: [output[0], 6], output: output)
        (self.fill, self.scales, self.degrees) = (fill, scales, degrees)
    }

    public var op: String { "affine_resample" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String {
        "x\(geometry.input) → \(geometry.output) scale \(scales.lowerBound)–\(scales.upperBound) ±\(degrees)° fill \(fill)"
    }
    public var inputShapes: [TensorShape] { [geometry.input, [geometry.output[0], 6]] }
    public var inputNames: [String] { ["input", "maps"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        guard index == 1 else { return HostTensor.randomNormal(geometry.input, using: &random).values }
        return (0..<geometry.output[0]).flatMap { _ in
            AffineMap(scale: scales.lowerBound + (scales.upperBound - scales.lowerBound) * Float(random.nextUniform()),
                      degrees: degrees * Float(2 * random.nextUniform() - 1),
                      dx: Float(6 * random.nextUniform() - 3), dy: Float(6 * random.nextUniform() - 3)).values
        }
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.affineResampleForward(input: inputs[0], maps: inputs[1], output: output, fill: fill)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let reach = AffineMap.maps(from: try backend.download(inputs[1]).values).map(\.reach).max() ?? 1
        let gradInput = try backend.makeTensor(geometry.input)
        try backend.affineResampleBackward(gradOutput: gradOutput, maps: inputs[1], gradInput: gradInput, reach: reach)
        return [0: gradInput]
    }
}

/// The ascent direction with the image regularizers' gradient subtracted (a fused backward pass).
public struct ImagePenaltyCase: OpCase {
    public let shape: TensorShape
    public let l2: Float
    public let tv: Float

    init(shape: TensorShape, l2: Float, tv: Float) {
        (self.shape, self.l2, self.tv) = (shape, l2, tv)
    }

    public var op: String { "image_penalty" }
    public var directions: [Direction] { [.backward] }
    public var shapeDescription: String { "x\(shape) l2 \(l2) tv \(tv)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let image = try backend.upload(.randomNormal(shape, scale: 0.3, using: &random))
        let gradient = try backend.upload(.randomNormal(shape, using: &random)), result = try backend.makeTensor(shape)
        try backend.imagePenaltyBackward(image: image, gradient: gradient, output: result, l2: l2, tv: tv)
        return [ParityOutput(name: "output", values: try backend.download(result).values)]
    }
}

/// Three Adam steps on `count` values.
public struct AdamCase: OpCase {
    public let count: Int
    public let hyperparameters: AdamParameters

    init(count: Int, _ hyperparameters: AdamParameters) {
        (self.count, self.hyperparameters) = (count, hyperparameters)
    }

    public var op: String { "adam" }
    public var directions: [Direction] { [.step] }
    public var shapeDescription: String { "\(count) values, lr \(hyperparameters.learningRate), 3 steps" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let parameter = try backend.upload(.randomNormal([count], using: &random))
        let m = try backend.makeTensor([count]), v = try backend.makeTensor([count])
        for step in 1...3 {
            try backend.adamStep(parameter: parameter, gradient: try backend.upload(.randomNormal([count], using: &random)),
                                 firstMoment: m, secondMoment: v, step: step, hyperparameters)
        }
        return try [("parameter", parameter), ("first_moment", m), ("second_moment", v)].map {
            ParityOutput(name: $0.0, values: try backend.download($0.1).values)
        }
    }
}

/// One SGD step on `count` values.
public struct SGDCase: OpCase {
    public let count: Int
    public let learningRate: Float

    init(count: Int, learningRate: Float) {
        (self.count, self.learningRate) = (count, learningRate)
    }

    public var op: String { "sgd" }
    public var directions: [Direction] { [.step] }
    public var shapeDescription: String { "\(count) values, lr \(learningRate)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let parameter = try backend.upload(.randomNormal([count], using: &random))
        try backend.sgdStep(parameter: parameter, gradient: try backend.upload(.randomNormal([count], using: &random)),
                            learningRate: learningRate)
        return [ParityOutput(name: "parameter", values: try backend.download(parameter).values)]
    }
}

/// Lucid's diversity term subtracted from a gradient (a fused backward pass).
public struct DiversityCase: OpCase {
    public let geometry: DiversityGeometry
    public let weight: Float

    init(activation: TensorShape, weight: Float) {
        geometry = try! DiversityGeometry(activation: activation)
        self.weight = weight
    }

    public var op: String { "diversity" }
    public var directions: [Direction] { [.backward] }
    public var shapeDescription: String { "x\(geometry.activation) weight \(weight)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let shape = geometry.activation
        let activation = try backend.upload(.randomNormal(shape, using: &random))
        let gradient = try backend.upload(.randomNormal(shape, using: &random)), result = try backend.makeTensor(shape)
        try backend.diversityBackward(activation: activation, gradient: gradient, output: result, weight: weight,
                                      scratch: try backend.makeTensor(geometry.scratchShape))
        return [ParityOutput(name: "output", values: try backend.download(result).values)]
    }
}

// MARK: - Cost

extension OpCost {
    /// Bilinear resampling: four multiply-adds per output element; backward visits up to (2·reach + 1)² candidates
    /// of each resampling per input element.
    public static func affineResample(_ g: AffineResampleGeometry, reach: Int? = nil) -> OpCost {
        let flops = reach.map { 8 * (2 * $0 + 1) * (2 * $0 + 1) * g.copies * g.input.count } ?? 8 * g.output.count
        return OpCost(flops: flops, bytes: OpCost.traffic(g.input.count, g.output.count))
    }
}

extension OpCost {
    /// Image regularizers (about 12 operations per element) and optimizer steps (about 10 for Adam, 2 for SGD).
    public static func elementwiseUpdate(count: Int, operations: Int, tensors: Int) -> OpCost {
        OpCost(flops: operations * count, bytes: OpCost.traffic(tensors * count))
    }
}

extension DiversityGeometry {
    /// The channel Gram matrices: a multiply-add per activation element and channel (2·N·C²·HW).
    public var gramCost: OpCost {
        OpCost(flops: 2 * images * channels * channels * positions,
               bytes: OpCost.traffic(activation.count, images * channels * channels))
    }

    /// The gradient: per activation element, C terms of about 8 operations (normalizing, the projection, a
    /// multiply-add) and 3 to scale and subtract it; reads the activation, its gradient and the Gram matrices.
    public var gradientCost: OpCost {
        OpCost(flops: (8 * channels + 3) * activation.count,
               bytes: OpCost.traffic(3 * activation.count, (images + 1) * channels * channels, 2 * images))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func affineResampleForward(input: Tensor, maps: Tensor, output: Tensor, fill: Float) throws {
        let checked = Checked(try checkAffineResample(input: input.shape, maps: maps.shape, output: output.shape))
        try affineResampleForward(checked, input: input, maps: maps, output: output, fill: fill)
    }

    public func affineResampleBackward(gradOutput: Tensor, maps: Tensor, gradInput: Tensor, reach: Int) throws {
        let checked = Checked(try checkAffineResample(
            input: gradInput.shape, maps: maps.shape, output: gradOutput.shape))
        try affineResampleBackward(checked, gradOutput: gradOutput, maps: maps, gradInput: gradInput, reach: reach)
    }

    public func imagePenaltyBackward(image: Tensor, gradient: Tensor, output: Tensor, l2: Float, tv: Float) throws {
        let checked = Checked(try checkImagePenalty(image: image.shape, gradient: gradient.shape, output: output.shape))
        try imagePenaltyBackward(checked, image: image, gradient: gradient, output: output, l2: l2, tv: tv)
    }

    public func adamStep(
        parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, step: Int,
        _ hyperparameters: AdamParameters
    ) throws {
        let checked = Checked(try checkSameShapes(
            [parameter.shape, gradient.shape, firstMoment.shape, secondMoment.shape],
            roles: ["parameter", "gradient", "first moment", "second moment"], of: "adam"))
        try adamStep(
            checked, parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
            step: step, hyperparameters)
    }

    public func sgdStep(parameter: Tensor, gradient: Tensor, learningRate: Float) throws {
        let checked = Checked(try checkSameShapes(
            [parameter.shape, gradient.shape], roles: ["parameter", "gradient"], of: "sgd"))
        try sgdStep(checked, parameter: parameter, gradient: gradient, learningRate: learningRate)
    }

    public func diversityBackward(
        activation: Tensor, gradient: Tensor, output: Tensor, weight: Float, scratch: Tensor
    ) throws {
        let checked = Checked(try checkDiversity(
            activation: activation.shape, gradient: gradient.shape, output: output.shape, scratch: scratch.shape))
        try diversityBackward(
            checked, activation: activation, gradient: gradient, output: output, weight: weight, scratch: scratch)
    }
}

// MARK: - Shape checks

extension Backend {
    /// Input and output NCHW of one shape, maps N×6.
    func checkAffineResample(input: TensorShape, maps: TensorShape, output: TensorShape) throws
        -> AffineResampleGeometry
    {
        try AffineResampleGeometry(input: input, maps: maps, output: output)
    }

    /// Activation, gradient and output of one NCHW shape with at least two images; scratch as the geometry says.
    func checkDiversity(activation: TensorShape, gradient: TensorShape, output: TensorShape, scratch: TensorShape)
        throws -> DiversityGeometry
    {
        let geometry = try DiversityGeometry(activation: activation)
        try checkSameShapes([activation, gradient, output], roles: ["activation", "gradient", "output"], of: "diversity")
        try scratch.require(geometry.scratchShape, "scratch", of: "diversity")
        return geometry
    }

    /// An NCHW image, its gradient and the output of one shape.
    func checkImagePenalty(image: TensorShape, gradient: TensorShape, output: TensorShape) throws -> TensorShape {
        try image.requireNCHW("image", of: "image_penalty")
        try checkSameShapes([image, gradient, output], roles: ["image", "gradient", "output"], of: "image_penalty")
        return image
    }
}
