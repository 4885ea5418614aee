/// Gaussian noise from `SeededGenerator`'s stream, added on the backend: element i of the tensor gets
/// `scale · normal(first + i)`, normal j being the generator's `nextNormal()` number j (draws 2j and 2j + 1; each
/// SplitMix64 draw depends only on its index, so every element is computed on its own). Drawn where the tensor
/// lives, SS-CAM's noise (one value per mask pixel: 25 million per sample on ResNet-18's layer4) never crosses the
/// bus; the device computes in float32, within a few ulps of the host's doubles.
public struct SeededNormalCase: OpCase {
    public let shape: TensorShape
    public let generatorSeed: UInt64
    public let firstNormal: UInt64
    public let scale: Float

    init(shape: TensorShape, generatorSeed: UInt64, firstNormal: UInt64, scale: Float) {
        (self.shape, self.generatorSeed, self.firstNormal, self.scale) = (shape, generatorSeed, firstNormal, scale)
    }

    public var op: String { "add_seeded_normal" }
    public var directions: [Direction] { [.forward] }
    public var shapeDescription: String { "x\(shape) seed \(generatorSeed) from \(firstNormal) ×\(scale)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let tensor = try backend.upload(.randomNormal(shape, using: &random))
        try backend.addSeededNormal(into: tensor, seed: generatorSeed, firstNormal: firstNormal, scale: scale)
        return [ParityOutput(name: "output", values: try backend.download(tensor).values)]
    }
}

extension Backend {
    /// `tensor[i] += scale · normal(firstNormal + i)` of `SeededGenerator(seed: seed)`'s stream, in place.
    public func addSeededNormal(into tensor: Tensor, seed: UInt64, firstNormal: UInt64, scale: Float) throws {
        try tensor.shape.requirePositive("tensor", of: "add_seeded_normal")
        guard scale.isFinite else { throw ShapeError(op: "add_seeded_normal", message: "scale \(scale) is not finite") }
        try addSeededNormal(Checked(tensor.shape), into: tensor, seed: seed, firstNormal: firstNormal, scale: scale)
    }
}
