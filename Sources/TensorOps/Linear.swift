/// A fully connected layer's shapes: input N×In, weight Out×In (PyTorch's layout), output N×Out.
public struct LinearGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let weight: TensorShape
    /// The input's leading axes with the last one replaced by Out.
    public var output: TensorShape { TensorShape(input.dimensions.dropLast() + [outFeatures]) }
    /// Rows of the product: every leading axis of the input (N, or N×H×W for channels-last features, N×tokens).
    public var batch: Int { input.count / inFeatures }
    public var inFeatures: Int { input[input.rank - 1] }
    public var outFeatures: Int { weight[0] }

    /// - Throws: `ShapeError` unless input is …×In (rank ≥ 2) and weight Out×In with matching In, all positive.
    public init(input: TensorShape, weight: TensorShape) throws(ShapeError) {
        let op = "linear"
        try input.requirePositive("input", of: op)
        try weight.requirePositive("weight", of: op)
        guard input.rank >= 2, weight.rank == 2, input[input.rank - 1] == weight[1] else {
            throw ShapeError(op: op, message: "input \(input) and weight \(weight) must be …×In and Out×In")
        }
        self.input = input
        self.weight = weight
    }

    public func requireBias(_ bias: TensorShape?) throws(ShapeError) {
        try bias?.require([outFeatures], "bias", of: "linear")
    }
}

/// A batched matrix product of two computed tensors (ONNX MatMul with no constant operand: attention's Q·Kᵀ and
/// A·V): …×M×K times …×K×N, the batch axes (those before the last two) broadcast as NumPy does. An operand whose
/// batch axes are the output's or all 1 steps through its matrices evenly (one launch serves the batch); other
/// broadcasts (N×1×… against 1×H×…) pick each product's matrices by `matrices(of:)`.
public struct MatMulGeometry: Hashable, Sendable {
    public let a: TensorShape
    public let b: TensorShape
    public let output: TensorShape
    public let m: Int
    public let n: Int
    public let k: Int
    /// Products in the batch (the output's batch axes multiplied).
    public let batch: Int
    /// Whether each operand holds one matrix per product (else one shared by all, or a partial broadcast).
    public let aIsBatched: Bool
    public let bIsBatched: Bool
    /// Whether both operands step evenly: each is batched or shares one matrix.
    public let isUniform: Bool
    /// Per output batch axis, how many matrices apart each operand's neighbours are (0 where it broadcasts).
    private let aMatrixStrides: [Int]
    private let bMatrixStrides: [Int]
    private let outputBatch: [Int]

    public init(a: TensorShape, b: TensorShape) throws(ShapeError) {
        let op = "matmul"
        try a.requirePositive("a", of: op)
        try b.requirePositive("b", of: op)
        guard a.rank >= 2, b.rank >= 2, a[a.rank - 1] == b[b.rank - 2] else {
            throw ShapeError(op: op, message: "a \(a) and b \(b) must be …×M×K and …×K×N")
        }
        let rank = max(a.rank, b.rank)
        func batchAxes(_ shape: TensorShape) -> [Int] {
            [Int](repeating: 1, count: rank - shape.rank) + shape.dimensions.dropLast(2)
        }
        let aBatch = batchAxes(a), bBatch = batchAxes(b)
        var outputBatch: [Int] = []
        for (x, y) in zip(aBatch, bBatch) {
            guard x == y || x == 1 || y == 1 else {
                throw ShapeError(op: op, message: "batch axes of a \(a) and b \(b) do not broadcast")
            }
            outputBatch.append(max(x, y))
        }
        (self.a, self.b) = (a, b)
        (m, k, n) = (a[a.rank - 2], a[a.rank - 1], b[b.rank - 1])
        batch = outputBatch.reduce(1, *)
        aIsBatched = aBatch == outputBatch && batch > 1
        bIsBatched = bBatch == outputBatch && batch > 1
        isUniform = [aBatch, bBatch].allSatisfy { $0 == outputBatch || $0.allSatisfy { $0 == 1 } }
        func matrixStrides(_ axes: [Int]) -> [Int] {
            zip(TensorShape(axes).strides, axes).map { $1 == 1 ? 0 : $0 }
        }
        (aMatrixStrides, bMatrixStrides, self.outputBatch) = (matrixStrides(aBatch), matrixStrides(bBatch), outputBatch)
        output = TensorShape(outputBatch + [m, n])
    }

    public var cost: OpCost {
        OpCost(flops: 2 * batch * m * n * k, bytes: OpCost.traffic(a.count, b.count, output.count))
    }

    /// Which matrix of a and of b product `z` (row-major over the output's batch axes) reads.
    public func matrices(of z: Int) -> (a: Int, b: Int) {
        var rest = z, aIndex = 0, bIndex = 0
        for axis in outputBatch.indices.reversed() {
            let position = rest % outputBatch[axis]
            rest /= outputBatch[axis]
            aIndex += position * aMatrixStrides[axis]
            bIndex += position * bMatrixStrides[axis]
        }
        return (aIndex, bIndex)
    }
}

// MARK: - Descriptor

/// The fully connected family (Kernels/linear.cl and gemm.cl, `OpenCLBackend+Linear`, `ReferenceMath+Linear`).
public enum LinearOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        LinearCase(input: [3, 17], outFeatures: 5, bias: true),
        LinearCase(input: [1, 64], outFeatures: 10, bias: false),
        // Channels-last features (ConvNeXt's pointwise layers) and tokens (ViT): every leading axis is a row.
        LinearCase(input: [2, 3, 4, 9], outFeatures: 6, bias: true),
        LinearCase(input: [2, 5, 8], outFeatures: 3, bias: false),
        // Enough rows for the product path (transposed weights, a bias per column), partial tiles both ways.
        LinearCase(input: [1, 5, 9, 37], outFeatures: 29, bias: true),
        LinearCase(input: [40, 21], outFeatures: 19, bias: false),
        // A model's weight, read through its transposed copy, and packed in panels where the products are long
        // (a CPU's 1024 terms: IN for the output, OUT for the input gradient), partial panels included.
        LinearCase(input: [40, 21], outFeatures: 19, bias: true, constantWeight: true),
        LinearCase(input: [37, 1030], outFeatures: 27, bias: true, constantWeight: true),
        LinearCase(input: [33, 29], outFeatures: 1027, bias: false, constantWeight: true),
        // Attention's products (heads × tokens), a plain matrix pair, and a matrix shared by a batch either side.
        MatMulCase(a: [2, 3, 7, 5], b: [2, 3, 5, 6]),
        MatMulCase(a: [9, 17], b: [17, 4]),
        MatMulCase(a: [2, 4, 3, 6], b: [6, 5]),
        MatMulCase(a: [3, 4], b: [2, 3, 4, 5]),
        // Each operand broadcast along the other's batch axis.
        MatMulCase(a: [2, 1, 3, 4], b: [1, 3, 4, 5]),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        LinearCase(input: [2, 3, 4], outFeatures: 2, bias: true),
        MatMulCase(a: [2, 3, 4], b: [2, 4, 2]),
        MatMulCase(a: [2, 2, 3], b: [3, 2]),
        MatMulCase(a: [2, 3], b: [2, 3, 2]),
        MatMulCase(a: [2, 1, 2, 3], b: [1, 2, 3, 2]),
    ]
}

/// a and b of a batched product, both computed (no weight): the gradients flow to each.
public struct MatMulCase: DifferentiableOpCase {
    public let geometry: MatMulGeometry

    init(a: TensorShape, b: TensorShape) { geometry = try! MatMulGeometry(a: a, b: b) }

    public var op: String { "matmul" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "a\(geometry.a) b\(geometry.b)" }
    public var inputShapes: [TensorShape] { [geometry.a, geometry.b] }
    public var inputNames: [String] { ["a", "b"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.matmulForward(a: inputs[0], b: inputs[1], output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradA = try backend.makeTensor(geometry.a), gradB = try backend.makeTensor(geometry.b)
        try backend.matmulBackward(a: inputs[0], b: inputs[1], gradOutput: gradOutput, gradA: gradA, gradB: gradB)
        return [0: gradA, 1: gradB]
    }
}

/// x (…×In), w (Out×In, scaled by 1/√In) and the bias when there is one.
public struct LinearCase: DifferentiableOpCase {
    public let geometry: LinearGeometry
    public let hasBias: Bool
    /// The weight uploaded as a model's constant.
    public let constantWeight: Bool

    init(input: TensorShape, outFeatures: Int, bias: Bool, constantWeight: Bool = false) {
        geometry = try! LinearGeometry(input: input, weight: [outFeatures, input[input.rank - 1]])
        hasBias = bias
        self.constantWeight = constantWeight
    }

    public var op: String { "linear" }
    public var directions: [Direction] { [.forward, .backwardInput, .backwardWeight] }
    public var shapeDescription: String {
        "x\(geometry.input) w\(geometry.outFeatures)×\(geometry.inFeatures)" + (hasBias ? " +bias" : "")
            + (constantWeight ? " (constant)" : "")
    }
    public var constantInputs: Set<Int> { constantWeight ? [1] : [] }
    public var inputShapes: [TensorShape] { [geometry.input, geometry.weight] + (hasBias ? [[geometry.outFeatures]] : []) }
    public var inputNames: [String] { ["input", "weight", "bias"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        HostTensor.randomNormal(inputShapes[index], scale: index == 1 ? 1 / Float(geometry.inFeatures).squareRoot() : 1,
                                using: &random).values
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.linearForward(input: inputs[0], weight: inputs[1], bias: hasBias ? inputs[2] : nil, output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        if direction == .backwardInput {
            let gradInput = try backend.makeTensor(geometry.input)
            try backend.linearBackwardInput(gradOutput: gradOutput, weight: inputs[1], gradInput: gradInput)
            return [0: gradInput]
        }
        let gradWeight = try backend.makeTensor(geometry.weight)
        let gradBias = hasBias ? try backend.makeTensor([geometry.outFeatures]) : nil
        try backend.linearBackwardWeight(gradOutput: gradOutput, input: inputs[0], gradWeight: gradWeight, gradBias: gradBias)
        return [1: gradWeight].merging(gradBias.map { [2: $0] } ?? [:]) { $1 }
    }
}

// MARK: - Cost

extension LinearGeometry {
    public func forwardCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * batch * inFeatures * outFeatures + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(input.count, weight.count, hasBias ? outFeatures : 0, output.count))
    }

    public var backwardInputCost: OpCost {
        OpCost(flops: 2 * batch * inFeatures * outFeatures, bytes: OpCost.traffic(output.count, weight.count, input.count))
    }

    public func backwardWeightCost(hasBias: Bool) -> OpCost {
        OpCost(flops: 2 * batch * inFeatures * outFeatures + (hasBias ? output.count : 0),
               bytes: OpCost.traffic(output.count, input.count, weight.count, hasBias ? outFeatures : 0))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func linearForward(input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor) throws {
        let checked = Checked(try checkLinear(
            input: input.shape, weight: weight.shape, bias: bias?.shape, output: output.shape))
        try linearForward(checked, input: input, weight: weight, bias: bias, output: output)
    }

    public func linearBackwardInput(gradOutput: Tensor, weight: Tensor, gradInput: Tensor) throws {
        let checked = Checked(try checkLinear(
            input: gradInput.shape, weight: weight.shape, bias: nil, output: gradOutput.shape))
        try linearBackwardInput(checked, gradOutput: gradOutput, weight: weight, gradInput: gradInput)
    }

    public func matmulForward(a: Tensor, b: Tensor, output: Tensor) throws {
        let checked = Checked(try checkMatMul(a: a.shape, b: b.shape, output: output.shape))
        try matmulForward(checked, a: a, b: b, output: output)
    }

    /// The gradients of `matmulForward` for a and b (either may be nil when not wanted); a matrix shared by the
    /// batch gets the sum over it.
    public func matmulBackward(a: Tensor, b: Tensor, gradOutput: Tensor, gradA: Tensor?, gradB: Tensor?) throws {
        let checked = Checked(try checkMatMul(a: a.shape, b: b.shape, output: gradOutput.shape))
        try gradA?.shape.require(a.shape, "gradA", of: "matmul")
        try gradB?.shape.require(b.shape, "gradB", of: "matmul")
        try matmulBackward(checked, a: a, b: b, gradOutput: gradOutput, gradA: gradA, gradB: gradB)
    }

    public func linearBackwardWeight(gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?) throws {
        let checked = Checked(try checkLinear(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape))
        try linearBackwardWeight(
            checked, gradOutput: gradOutput, input: input, gradWeight: gradWeight, gradBias: gradBias)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkMatMul(a: TensorShape, b: TensorShape, output: TensorShape) throws -> MatMulGeometry {
        let geometry = try MatMulGeometry(a: a, b: b)
        try output.require(geometry.output, "output", of: "matmul")
        return geometry
    }

    func checkLinear(input: TensorShape, weight: TensorShape, bias: TensorShape?, output: TensorShape)
        throws -> LinearGeometry
    {
        let geometry = try LinearGeometry(input: input, weight: weight)
        try geometry.requireBias(bias)
        try output.require(geometry.output, "output", of: "linear")
        return geometry
    }
}
