import TensorOps

/// A tensor in host memory, owned by the reference backend: `Double` elements for data (holding float32 values
/// unless the backend computes in `ReferencePrecision.float64`), `Int32` for max-pool argmax indices.
public final class ReferenceTensor<Element: Numeric>: BackendTensor {
    /// The element array, shared by every reshaped view of it.
    final class Storage {
        var values: [Element]
        init(_ values: [Element]) { self.values = values }
    }

    public let shape: TensorShape
    let storage: Storage
    /// Whether results are rounded to float32 when stored (`ReferencePrecision.float32`).
    let roundsToFloat32: Bool

    public var values: [Element] {
        get { storage.values }
        set { storage.values = newValue }
    }

    init(shape: TensorShape, values: [Element], roundsToFloat32: Bool) {
        self.shape = shape
        self.storage = Storage(values)
        self.roundsToFloat32 = roundsToFloat32
    }

    init(shape: TensorShape, sharing tensor: ReferenceTensor) {
        self.shape = shape
        self.storage = tensor.storage
        self.roundsToFloat32 = tensor.roundsToFloat32
    }

    /// A zero-filled tensor.
    convenience init(zeros shape: TensorShape, roundsToFloat32: Bool) {
        self.init(shape: shape, values: [Element](repeating: 0, count: shape.count), roundsToFloat32: roundsToFloat32)
    }
}

/// How the reference backend stores results.
public enum ReferencePrecision: Sendable {
    /// Every result rounded to float32 where it is stored, as a float32 device stores it: the yardstick of
    /// `convlens verify` and `--backend cpu`.
    case float32
    /// Double throughout, for finite differences of whole ops (`GradientCheck`), whose differences float32 storage
    /// would round away.
    case float64
}

/// The CPU reference backend: `ReferenceMath` in Double, rounding to float32 only where a result is stored (or
/// never, in `.float64`). It is the yardstick the OpenCL backend is measured against (`convlens verify`), and the
/// backend `--backend cpu` selects.
public final class ReferenceBackend: Backend, Sendable {
    public typealias Tensor = ReferenceTensor<Double>
    public typealias IndexTensor = ReferenceTensor<Int32>

    public let precision: ReferencePrecision
    private var roundsToFloat32: Bool { precision == .float32 }

    public init(precision: ReferencePrecision = .float32) {
        self.precision = precision
    }

    public var name: String { precision == .float32 ? "cpu reference" : "cpu reference (float64)" }
    public var memoryCapacity: Int? { nil }

    public func makeTensor(_ shape: TensorShape) throws -> Tensor {
        try shape.requirePositive("tensor", of: "makeTensor")
        return Tensor(zeros: shape, roundsToFloat32: roundsToFloat32)
    }

    public func makeIndexTensor(_ shape: TensorShape) throws -> IndexTensor {
        try shape.requirePositive("index tensor", of: "makeIndexTensor")
        return IndexTensor(zeros: shape, roundsToFloat32: false)
    }

    public func upload(_ host: HostTensor) throws -> Tensor {
        try host.shape.requirePositive("tensor", of: "upload")
        return Tensor(shape: host.shape, values: host.values.map(Double.init), roundsToFloat32: roundsToFloat32)
    }

    public func uploadIndices(_ values: [Int32], shape: TensorShape) throws -> IndexTensor {
        try shape.requirePositive("index tensor", of: "uploadIndices")
        guard values.count == shape.count else {
            throw ShapeError(op: "uploadIndices", message: "\(values.count) values for shape \(shape)")
        }
        return IndexTensor(shape: shape, values: values, roundsToFloat32: false)
    }

    public func write(_ host: HostTensor, into tensor: Tensor) throws {
        try host.shape.require(tensor.shape, "host tensor", of: "write")
        tensor.values = host.values.map(Double.init)
    }

    public func download(_ tensor: Tensor) throws -> HostTensor {
        HostTensor(shape: tensor.shape, values: tensor.values.map(Float.init))
    }

    public func downloadIndices(_ tensor: IndexTensor) throws -> [Int32] { tensor.values }

    public func reshaped(_ tensor: Tensor, to shape: TensorShape) throws -> Tensor {
        try checkReshape(tensor.shape, to: shape)
        return Tensor(shape: shape, sharing: tensor)
    }

    public func copyElements(_ source: Tensor, from sourceOffset: Int, into destination: Tensor, at destinationOffset: Int,
                             count: Int) throws {
        try checkCopy(source: source.shape, from: sourceOffset, destination: destination.shape, at: destinationOffset,
                      count: count)
        destination.values[destinationOffset..<destinationOffset + count] = source.values[sourceOffset..<sourceOffset + count]
    }
}

extension ReferenceBackend {
    /// A tensor of exactly these values (no float32 rounding in `.float64`), for finite differences.
    public func upload(_ values: [Double], shape: TensorShape) throws -> Tensor {
        try shape.requirePositive("tensor", of: "upload")
        precondition(values.count == shape.count, "\(values.count) values for shape \(shape)")
        return Tensor(shape: shape, values: roundsToFloat32 ? values.map { Double(Float($0)) } : values,
                      roundsToFloat32: roundsToFloat32)
    }

    /// The tensor's values as stored, without rounding to float32.
    public func downloadDoubles(_ tensor: Tensor) -> [Double] { tensor.values }
}

extension ReferenceTensor where Element == Double {
    /// The values, in the precision `ReferenceMath` works in.
    var doubles: [Double] { values }

    /// Stores `result`, rounded to float32 unless the backend computes in float64.
    func store(_ result: [Double]) {
        precondition(result.count == values.count, "result size \(result.count) for tensor \(shape)")
        values = roundsToFloat32 ? result.map { Double(Float($0)) } : result
    }
}
