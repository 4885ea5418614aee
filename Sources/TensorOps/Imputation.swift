/// Shapes of ROAD's linear imputation (pytorch-grad-cam's `NoisyLinearImputer` without its noise): an image
/// 1×C×H×W or V×C×H×W, one mask per variant V×1×H×W (1 keeps the pixel, 0 removes it), the imputed variants
/// V×C×H×W, and a scratch tensor for the conjugate-gradient vectors.
public struct ImputationGeometry: Hashable, Sendable {
    public let image: TensorShape
    public let known: TensorShape

    /// - Throws: `ShapeError` unless the image is NCHW with 1 or V images, the mask V×1×H×W over the same
    ///   plane, and the output and scratch the shapes below.
    public init(image: TensorShape, known: TensorShape, output: TensorShape, scratch: TensorShape) throws(ShapeError) {
        let op = "linear_imputation"
        try image.requireNCHW("image", of: op)
        try image.requirePositive("image", of: op)
        try known.requireNCHW("known", of: op)
        guard known[1] == 1, known[2] == image[2], known[3] == image[3], image[0] == 1 || image[0] == known[0] else {
            throw ShapeError(op: op, message: "known \(known) must be V×1×\(image[2])×\(image[3]) with V = \(image[0]) or an image \(image) of batch 1")
        }
        (self.image, self.known) = (image, known)
        try output.require(outputShape, "output", of: op)
        try scratch.require(scratchShape, "scratch", of: op)
    }

    public var variants: Int { known[0] }
    public var channels: Int { image[1] }
    public var height: Int { image[2] }
    public var width: Int { image[3] }
    /// Whether every variant starts from the same image (batch 1).
    public var sharesImage: Bool { image[0] == 1 }
    public var outputShape: TensorShape { [variants, channels, height, width] }
    /// The residual, search direction and matrix product of every plane's solve.
    public var scratchShape: TensorShape { [3, variants, channels, height, width] }

    /// The 8-neighbour stencil of the imputation: (row offset, column offset, weight), 1/6 for a side, 1/12 for a
    /// corner, as pytorch-grad-cam's `neighbors_weights`.
    public static let stencil: [(dy: Int, dx: Int, weight: Double)] = [
        (1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
        (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6),
    ]

    /// Where a float32 solve stops: the residual at 1e−6 of the right-hand side's norm. The recurrence's residual
    /// keeps shrinking below float32's true floor (≈ 1e−7 relative), so a smaller target only adds iterations.
    public static let float32Tolerance: Float = 1e-6

    /// The most conjugate-gradient iterations per plane. The error falls by a constant factor per √κ iterations
    /// and κ of this stencil on a hole of diameter D grows as D², so a few passes over the plane's perimeter
    /// reach float32 precision on any mask; the bound only stops a solve that rounding keeps from converging.
    public var iterationLimit: Int { 8 * (height + width) + 64 }

    /// The bytes of one pass over the image, masks, output and scratch. No FLOPs are declared: how many
    /// iterations a solve takes depends on the masks (27 FLOPs per pixel and iteration), so `--profile` shows
    /// this kernel's bytes only rather than a rate it cannot know.
    public var cost: OpCost {
        let elements = outputShape.count
        return OpCost(flops: 0, bytes: OpCost.traffic(image.count, known.count, elements, 3 * elements))
    }
}

// MARK: - Descriptor

/// ROAD's imputation (Kernels/imputation.cl, `OpenCLBackend+Imputation`, `ReferenceMath+Imputation`).
public enum ImputationOp: OpFamily {
    /// One image under several masks, and one mask per image; the 40×36 plane's masks remove a 24×20 block besides
    /// scattered pixels, a hole that takes the solver many iterations.
    public static let parityCases: [any OpCase] = [
        LinearImputationCase(image: [1, 3, 12, 10], variants: 3),
        LinearImputationCase(image: [2, 2, 9, 7], variants: 2),
        LinearImputationCase(image: [1, 1, 40, 36], variants: 2),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = []
}

public struct LinearImputationCase: OpCase {
    public let image: TensorShape
    public let variants: Int

    init(image: TensorShape, variants: Int) {
        (self.image, self.variants) = (image, variants)
    }

    public var op: String { "linear_imputation" }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String { "x\(image) \(variants) masks" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let (height, width) = (image[2], image[3])
        let knownShape: TensorShape = [variants, 1, height, width]
        // Each variant keeps a different share of scattered pixels (about 70 %, 50 %, 30 %, …); odd variants also
        // lose a block from the plane's second row and column to two rows and columns before its far edges.
        let known = (0..<knownShape.count).map { index -> Float in
            let (variant, position) = index.quotientAndRemainder(dividingBy: height * width)
            let (row, column) = position.quotientAndRemainder(dividingBy: width)
            let inBlock = variant % 2 == 1 && (1..<height - 2).contains(row) && (1..<width - 2).contains(column)
            let keep = random.nextUniform() < 0.7 - 0.2 * Double(variant)
            return keep && !inBlock ? 1 : 0
        }
        let outputShape: TensorShape = [variants, image[1], height, width]
        let result = try backend.makeTensor(outputShape)
        let scratch = try backend.makeTensor(TensorShape([3] + outputShape.dimensions))
        try backend.linearImputation(image: try backend.upload(.randomNormal(image, using: &random)),
                                     known: try backend.upload(HostTensor(shape: knownShape, values: known)),
                                     output: result, scratch: scratch)
        return [ParityOutput(name: "output", values: try backend.download(result).values)]
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func linearImputation(image: Tensor, known: Tensor, output: Tensor, scratch: Tensor) throws {
        let checked = Checked(try ImputationGeometry(
            image: image.shape, known: known.shape, output: output.shape, scratch: scratch.shape))
        try linearImputation(checked, image: image, known: known, output: output, scratch: scratch)
    }
}
