/// Element-wise binary operations with NumPy broadcasting.
public enum BinaryOp: String, Hashable, Sendable, CaseIterable {
    case add
    case mul
}

/// Two operand shapes broadcast NumPy-style (aligned on the right; each dimension equal or 1) to the output,
/// for ranks up to 4. Shapes are padded on the left to rank 4 for the kernels.
public struct BroadcastGeometry: Hashable, Sendable {
    public static let maxRank = 4

    public let a: TensorShape
    public let b: TensorShape
    public let output: TensorShape

    /// - Throws: `ShapeError` when a shape is empty, has a zero dimension or more than 4 dimensions, or the two
    ///   disagree in a dimension where neither is 1.
    public init(a: TensorShape, b: TensorShape, op: BinaryOp) throws(ShapeError) {
        let name = op.rawValue
        try a.requirePositive("a", of: name)
        try b.requirePositive("b", of: name)
        guard a.rank <= Self.maxRank, b.rank <= Self.maxRank else {
            throw ShapeError(op: name, message: "ranks above \(Self.maxRank) are not supported: \(a) and \(b)")
        }
        let rank = max(a.rank, b.rank)
        let paddedA = Self.padded(a, to: rank), paddedB = Self.padded(b, to: rank)
        var output: [Int] = []
        for (x, y) in zip(paddedA, paddedB) {
            guard x == y || x == 1 || y == 1 else {
                throw ShapeError(op: name, message: "shapes \(a) and \(b) do not broadcast")
            }
            output.append(max(x, y))
        }
        self.a = a
        self.b = b
        self.output = TensorShape(output)
    }

    /// `shape` with leading 1s up to `rank`.
    public static func padded(_ shape: TensorShape, to rank: Int = maxRank) -> [Int] {
        [Int](repeating: 1, count: rank - shape.rank) + shape.dimensions
    }

    /// Row-major strides of `shape` padded to rank 4, with 0 wherever it is broadcast against `output`.
    public func broadcastStrides(of shape: TensorShape) -> [Int] {
        let dims = Self.padded(shape), outputDims = Self.padded(output)
        var strides = [Int](repeating: 0, count: Self.maxRank)
        var stride = 1
        for axis in (0..<Self.maxRank).reversed() {
            strides[axis] = dims[axis] == outputDims[axis] ? stride : 0
            stride *= dims[axis]
        }
        return strides
    }
}
