/// Element-wise binary operations with NumPy broadcasting.
public enum BinaryOp: String, Hashable, Sendable, CaseIterable {
    case add
    case sub
    case mul
    case div
}

/// Two operand shapes broadcast NumPy-style (aligned on the right; each dimension equal or 1) to the output,
/// for ranks up to 4. Shapes are padded on the left to rank 4 for the kernels.
public struct BroadcastGeometry: Hashable, Sendable {
    /// The kernels walk at most this many axes, after merging adjacent axes that broadcast alike.
    public static let maxRank = 4

    public let a: TensorShape
    public let b: TensorShape
    public let output: TensorShape
    /// The output and the two operands as the kernels walk them: size-1 output axes dropped, adjacent axes merged
    /// where each operand either has both or lacks both (so Swin's 1×64×3×49×49 + 1×64×1×49×49 is 64×3×2401 +
    /// 64×1×2401), padded with leading 1s to `maxRank`.
    public let kernelOutput: [Int]
    public let kernelA: [Int]
    public let kernelB: [Int]

    /// - Throws: `ShapeError` when a shape is empty or has a zero dimension, the two disagree in a dimension where
    ///   neither is 1, or the broadcast needs more than `maxRank` axes even after merging.
    public init(a: TensorShape, b: TensorShape, op: BinaryOp) throws(ShapeError) {
        let name = op.rawValue
        try a.requirePositive("a", of: name)
        try b.requirePositive("b", of: name)
        let rank = max(a.rank, b.rank)
        let paddedA = Self.padded(a, to: rank), paddedB = Self.padded(b, to: rank)
        var output: [Int] = []
        for (x, y) in zip(paddedA, paddedB) {
            guard x == y || x == 1 || y == 1 else {
                throw ShapeError(op: name, message: "shapes \(a) and \(b) do not broadcast")
            }
            output.append(max(x, y))
        }
        var merged: [(output: Int, a: Int, b: Int)] = []
        for axis in 0..<rank where output[axis] > 1 {
            let next = (output[axis], paddedA[axis], paddedB[axis])
            if let last = merged.last, (last.a == last.output) == (next.1 == next.0),
               (last.b == last.output) == (next.2 == next.0) {
                merged[merged.count - 1] = (last.output * next.0, last.a * next.1, last.b * next.2)
            } else {
                merged.append(next)
            }
        }
        guard merged.count <= Self.maxRank else {
            throw ShapeError(op: name, message: "broadcasting \(a) against \(b) needs \(merged.count) axes that "
                + "broadcast differently; at most \(Self.maxRank) are supported")
        }
        let padding = [Int](repeating: 1, count: Self.maxRank - merged.count)
        self.a = a
        self.b = b
        self.output = TensorShape(output)
        kernelOutput = padding + merged.map(\.output)
        kernelA = padding + merged.map(\.a)
        kernelB = padding + merged.map(\.b)
    }

    /// `shape` with leading 1s up to `rank`.
    public static func padded(_ shape: TensorShape, to rank: Int = maxRank) -> [Int] {
        [Int](repeating: 1, count: rank - shape.rank) + shape.dimensions
    }

    /// Row-major strides of an operand's kernel dims (`kernelA` or `kernelB`), 0 wherever it is broadcast against
    /// `kernelOutput`.
    public func kernelStrides(_ dims: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: Self.maxRank)
        var stride = 1
        for axis in (0..<Self.maxRank).reversed() {
            strides[axis] = dims[axis] == kernelOutput[axis] ? stride : 0
            stride *= dims[axis]
        }
        return strides
    }
}

/// A softmax's shape split around its axis: `outer` groups of `extent` values `inner` apart (`inner` is 1 for the
/// last axis, where each group is a contiguous row).
public struct SoftmaxGeometry: Hashable, Sendable {
    public let shape: TensorShape
    /// The axis, counted from the front.
    public let axis: Int

    /// - Throws: `ShapeError` for an empty shape or an axis outside −rank..<rank.
    public init(shape: TensorShape, axis: Int) throws(ShapeError) {
        try shape.requirePositive("input", of: "softmax")
        guard (-shape.rank..<shape.rank).contains(axis) else {
            throw ShapeError(op: "softmax", message: "axis \(axis) is outside a rank-\(shape.rank) tensor \(shape)")
        }
        self.shape = shape
        self.axis = axis < 0 ? axis + shape.rank : axis
    }

    public var extent: Int { shape[axis] }
    public var inner: Int { shape.dimensions[(axis + 1)...].reduce(1, *) }
    public var outer: Int { shape.count / (extent * inner) }
}

// MARK: - Descriptor

/// The element-wise family (Kernels/elementwise.cl, `OpenCLBackend+Elementwise`, `ReferenceMath+Elementwise`):
/// broadcast binary ops, the per-channel affine map of an unfolded BatchNormalization, softmax.
public enum ElementwiseOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        BinaryCase(.add, a: [2, 3, 5, 7], b: [2, 3, 5, 7]),
        BinaryCase(.add, a: [2, 3, 5, 7], b: [1, 3, 1, 1]),
        BinaryCase(.add, a: [3, 10], b: [10]),
        BinaryCase(.mul, a: [2, 3, 5, 7], b: [2, 3, 5, 7]),
        BinaryCase(.mul, a: [2, 1, 5, 7], b: [2, 3, 5, 1]),
        BinaryCase(.sub, a: [2, 3, 5, 7], b: [1, 3, 1, 7]),
        BinaryCase(.div, a: [2, 3, 5, 7], b: [2, 3, 5, 7]),
        BinaryCase(.div, a: [3, 1, 6], b: [4, 6]),
        // Swin's attention bias: five axes that merge into three.
        BinaryCase(.add, a: [1, 4, 3, 7, 7], b: [1, 4, 1, 7, 7]),
        BinaryCase(.mul, a: [2, 1, 3, 2, 1, 5], b: [2, 4, 3, 2, 1, 1]),
        // Rows longer than one forward run (256): a channels-last layer scale, and a broadcast first operand.
        BinaryCase(.mul, a: [1, 3, 5, 300], b: [300]),
        BinaryCase(.sub, a: [2, 3, 1], b: [2, 3, 600]),
        ChannelAffineCase(shape: [2, 5, 6, 7]),
        // The last axis (the row kernels, 8 columns at a time): whole runs and a tail, a tail only, whole runs only.
        SoftmaxCase(shape: [3, 10]),
        SoftmaxCase(shape: [2, 3, 17]),
        SoftmaxCase(shape: [4, 6]),
        SoftmaxCase(shape: [2, 3, 24]),
        // Other axes: channels of a feature map, and the middle of three.
        SoftmaxCase(shape: [2, 5, 3, 4], axis: 1),
        SoftmaxCase(shape: [3, 7, 6], axis: -2),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        BinaryCase(.add, a: [2, 3, 4], b: [3, 1]), BinaryCase(.mul, a: [2, 3, 4], b: [2, 3, 4]),
        BinaryCase(.mul, a: [2, 1, 4], b: [3, 1]), BinaryCase(.mul, a: [5], b: [2, 3, 5]),
        BinaryCase(.add, a: [1, 2, 3, 2, 2], b: [1, 2, 1, 2, 2]),
        BinaryCase(.sub, a: [2, 3, 4], b: [3, 1]), BinaryCase(.div, a: [2, 3, 4], b: [2, 1, 4]),
        BinaryCase(.div, a: [3], b: [2, 3]),
        ChannelAffineCase(shape: [2, 3, 4, 2]), SoftmaxCase(shape: [3, 7]), SoftmaxCase(shape: [2, 4, 3], axis: 1),
    ]
}

/// `a ∘ b` with broadcasting; both operands get gradients. A divisor keeps at least 0.5 away from zero.
public struct BinaryCase: DifferentiableOpCase {
    public let geometry: BroadcastGeometry
    public let binaryOp: BinaryOp

    init(_ op: BinaryOp, a: TensorShape, b: TensorShape) {
        geometry = try! BroadcastGeometry(a: a, b: b, op: op)
        binaryOp = op
    }

    public var op: String { binaryOp.rawValue }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "a\(geometry.a) b\(geometry.b)" }
    public var inputShapes: [TensorShape] { [geometry.a, geometry.b] }
    public var inputNames: [String] { ["a", "b"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        let values = HostTensor.randomNormal(inputShapes[index], using: &random).values
        guard binaryOp == .div, index == 1 else { return values }
        return values.map { ($0 < 0 ? -0.5 : 0.5) + $0 }
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.binaryForward(binaryOp, inputs[0], inputs[1], output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let (gradA, gradB) = (try backend.makeTensor(geometry.a), try backend.makeTensor(geometry.b))
        try backend.binaryBackward(binaryOp, a: inputs[0], b: inputs[1], gradOutput: gradOutput, gradA: gradA, gradB: gradB)
        return [0: gradA, 1: gradB]
    }
}

/// x · scale[c] + shift[c]; the gradient is taken for x (scale and shift are folded constants).
public struct ChannelAffineCase: DifferentiableOpCase {
    public let shape: TensorShape

    init(shape: TensorShape) { self.shape = shape }

    public var op: String { "channel_affine" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(shape)" }
    public var inputShapes: [TensorShape] { [shape, [shape[1]], [shape[1]]] }
    public var inputNames: [String] { ["input", "scale", "shift"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(shape)
        try backend.channelAffineForward(input: inputs[0], scale: inputs[1], shift: inputs[2], output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(shape)
        try backend.channelAffineBackward(gradOutput: gradOutput, scale: inputs[1], gradInput: gradInput)
        return [0: gradInput]
    }
}

/// Softmax over one axis of inputs spread σ = 3 (far from uniform).
public struct SoftmaxCase: DifferentiableOpCase {
    public let shape: TensorShape
    public let axis: Int

    init(shape: TensorShape, axis: Int = -1) {
        self.shape = shape
        self.axis = axis
    }

    public var op: String { "softmax" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(shape)" + (axis == -1 ? "" : " axis \(axis)") }
    public var inputShapes: [TensorShape] { [shape] }
    public var inputNames: [String] { ["input"] }

    public func input(_ index: Int, using random: inout SeededGenerator) -> [Float] {
        HostTensor.randomNormal(shape, scale: 3, using: &random).values
    }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(shape)
        try backend.softmaxForward(input: inputs[0], output: output, axis: axis)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(shape)
        try backend.softmaxBackward(output: try forward(inputs, on: backend), gradOutput: gradOutput, gradInput: gradInput,
                                    axis: axis)
        return [0: gradInput]
    }
}

// MARK: - Cost

extension OpCost {
    /// A broadcast binary op: one operation per output element; backward reads the gradient (and, for Mul, the
    /// other operand) once per operand gradient and writes each operand gradient.
    public static func binary(_ geometry: BroadcastGeometry, backward: Bool) -> OpCost {
        let out = geometry.output.count
        guard backward else {
            return OpCost(flops: out, bytes: OpCost.traffic(geometry.a.count, geometry.b.count, out))
        }
        return OpCost(flops: 2 * out, bytes: OpCost.traffic(out, out, geometry.a.count, geometry.b.count))
    }
}

extension OpCost {
    /// Per-channel scale and shift: a multiply-add per element.
    public static func channelAffine(_ shape: TensorShape) -> OpCost {
        OpCost(flops: 2 * shape.count, bytes: OpCost.traffic(shape.count, shape.count, 2 * shape[1]))
    }
}

extension OpCost {
    /// Softmax over rows: max, exponent, sum and division per element (about 4 operations); backward a dot
    /// product and a multiply-add per element.
    public static func softmax(_ shape: TensorShape, backward: Bool) -> OpCost {
        OpCost(flops: 4 * shape.count, bytes: OpCost.traffic(shape.count, shape.count, backward ? shape.count : 0))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func binaryForward(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, output: Tensor) throws {
        let checked = Checked(try checkBinary(op, a: a.shape, b: b.shape, output: output.shape))
        try binaryForward(checked, op, a, b, output: output)
    }

    public func binaryBackward(
        _ op: BinaryOp, a: Tensor, b: Tensor, gradOutput: Tensor, gradA: Tensor?, gradB: Tensor?
    ) throws {
        let checked = Checked(try checkBinaryBackward(
            op, a: a.shape, b: b.shape, gradOutput: gradOutput.shape, gradA: gradA?.shape, gradB: gradB?.shape))
        try binaryBackward(checked, op, a: a, b: b, gradOutput: gradOutput, gradA: gradA, gradB: gradB)
    }

    public func channelAffineForward(input: Tensor, scale: Tensor, shift: Tensor, output: Tensor) throws {
        let checked = Checked(try checkChannelAffine(
            input: input.shape, scale: scale.shape, shift: shift.shape, output: output.shape))
        try channelAffineForward(checked, input: input, scale: scale, shift: shift, output: output)
    }

    public func channelAffineBackward(gradOutput: Tensor, scale: Tensor, gradInput: Tensor) throws {
        let checked = Checked(try checkChannelAffine(
            input: gradOutput.shape, scale: scale.shape, shift: nil, output: gradInput.shape))
        try channelAffineBackward(checked, gradOutput: gradOutput, scale: scale, gradInput: gradInput)
    }

    /// Softmax over `axis` (negative: from the back; the last by default).
    public func softmaxForward(input: Tensor, output: Tensor, axis: Int = -1) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: "softmax")
        try softmaxForward(Checked(try SoftmaxGeometry(shape: input.shape, axis: axis)), input: input, output: output)
    }

    public func softmaxBackward(output: Tensor, gradOutput: Tensor, gradInput: Tensor, axis: Int = -1) throws {
        try checkSameShapes([output.shape, gradOutput.shape, gradInput.shape], roles: ["output", "gradOutput", "gradInput"],
                            of: "softmax")
        try softmaxBackward(Checked(try SoftmaxGeometry(shape: output.shape, axis: axis)), output: output,
                            gradOutput: gradOutput, gradInput: gradInput)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkBinary(_ op: BinaryOp, a: TensorShape, b: TensorShape, output: TensorShape) throws
        -> BroadcastGeometry
    {
        let geometry = try BroadcastGeometry(a: a, b: b, op: op)
        try output.require(geometry.output, "output", of: op.rawValue)
        return geometry
    }

    func checkChannelAffine(input: TensorShape, scale: TensorShape, shift: TensorShape?, output: TensorShape)
        throws -> TensorShape
    {
        let op = "channel_affine"
        try input.requirePositive("input", of: op)
        guard input.rank >= 2 else { throw ShapeError(op: op, message: "input \(input) has no channel axis") }
        try scale.require([input[1]], "scale", of: op)
        try shift?.require([input[1]], "shift", of: op)
        try output.require(input, "output", of: op)
        return input
    }

    /// Operands and their optional gradients for `binaryBackward`.
    func checkBinaryBackward(
        _ op: BinaryOp, a: TensorShape, b: TensorShape, gradOutput: TensorShape, gradA: TensorShape?,
        gradB: TensorShape?
    ) throws -> BroadcastGeometry {
        let geometry = try checkBinary(op, a: a, b: b, output: gradOutput)
        try gradA?.require(a, "gradA", of: op.rawValue)
        try gradB?.require(b, "gradB", of: op.rawValue)
        return geometry
    }
}
