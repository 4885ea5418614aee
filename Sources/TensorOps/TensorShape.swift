/// The dimensions of a tensor, outermost first. Images and activations are NCHW; linear layers use N×features.
public struct TensorShape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dimensions: [Int]

    public init(_ dimensions: [Int]) { self.dimensions = dimensions }
    public init(arrayLiteral elements: Int...) { self.dimensions = elements }

    public var rank: Int { dimensions.count }
    /// Number of elements.
    public var count: Int { dimensions.reduce(1, *) }

    /// The largest extent a model may give an axis, a padding, a stride or a kernel (2²⁴): far above any real
    /// network, small enough that the geometry arithmetic on a few of them cannot overflow `Int`.
    public static let maximumExtent = 1 << 24
    /// The most elements one tensor may hold: the kernels index with 32-bit integers.
    public static let maximumCount = Int(Int32.max)

    /// The number of elements, or nil when a dimension is negative or the product overflows or exceeds
    /// `maximumCount` (shapes computed from a file's numbers are checked with this before anything is allocated).
    public var checkedCount: Int? {
        var product = 1
        for extent in dimensions {
            guard extent >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: extent)
            guard !overflow, next <= Self.maximumCount else { return nil }
            product = next
        }
        return product
    }
    public subscript(_ axis: Int) -> Int { dimensions[axis] }

    /// Row-major strides: how many elements apart neighbours along each axis are.
    public var strides: [Int] {
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * dimensions[axis + 1] }
        return strides
    }

    /// `2×3×32×32`, the form every message uses.
    public var description: String { dimensions.map(String.init).joined(separator: "×") }

    /// Throws unless this is a rank-4 NCHW shape with every dimension positive.
    public func requireNCHW(_ role: String, of op: String) throws(ShapeError) {
        guard rank == 4 else {
            throw ShapeError(op: op, message: "\(role) must be NCHW (rank 4), got \(self)")
        }
        try requirePositive(role, of: op)
    }

    /// Throws if any dimension is zero or negative, or there are none.
    public func requirePositive(_ role: String, of op: String) throws(ShapeError) {
        guard rank > 0, dimensions.allSatisfy({ $0 > 0 }) else {
            throw ShapeError(op: op, message: "\(role) has an empty or non-positive dimension: \(self)")
        }
    }

    /// Throws unless this shape equals `expected`.
    public func require(_ expected: TensorShape, _ role: String, of op: String) throws(ShapeError) {
        guard self == expected else {
            throw ShapeError(op: op, message: "\(role) must be \(expected), got \(self)")
        }
    }
}

/// An impossible or mismatched shape, caught before anything is launched. The message names the op and the
/// shapes involved.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
    public let op: String
    public let message: String
    /// The shapes fit, but the output would hold more than `TensorShape.maximumCount` elements (a size problem for
    /// the caller to report as such, not a mismatch).
    public let isTooLarge: Bool

    public init(op: String, message: String, isTooLarge: Bool = false) {
        self.op = op
        self.message = message
        self.isTooLarge = isTooLarge
    }

    public var description: String { "\(op): \(message)" }
}
