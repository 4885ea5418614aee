import TensorOps

/// A tensor in host memory, owned by the reference backend: `Float` elements for data, `Int32` for max-pool
/// argmax indices.
public final class ReferenceTensor<Element: Numeric>: BackendTensor {
    /// The element array, shared by every reshaped view of it.
    final class Storage {
        var values: [Element]
        init(_ values: [Element]) { self.values = values }
    }

    public let shape: TensorShape
    let storage: Storage

    public var values: [Element] {
        get { storage.values }
        set { storage.values = newValue }
    }

    init(shape: TensorShape, values: [Element]) {
        self.shape = shape
        self.storage = Storage(values)
    }

    init(shape: TensorShape, sharing storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    /// A zero-filled tensor.
    convenience init(zeros shape: TensorShape) {
        self.init(shape: shape, values: [Element](repeating: 0, count: shape.count))
    }
}

/// The CPU reference backend: `ReferenceMath` in Double over float32 tensors, rounding to float32 only where a
/// result is stored. It is the yardstick the OpenCL backend is measured against (`convlens verify`), and the
/// backend `--backend cpu` selects.
public final class ReferenceBackend: Backend, Sendable {
    public typealias Tensor = ReferenceTensor<Float>
    public typealias IndexTensor = ReferenceTensor<Int32>

    public init() {}

    public var name: String { "cpu reference" }
    public var memoryCapacity: Int? { nil }

    public func makeTensor(_ shape: TensorShape) throws -> Tensor {
        try shape.requirePositive("tensor", of: "makeTensor")
        return Tensor(zeros: shape)
    }

    public func makeIndexTensor(_ shape: TensorShape) throws -> IndexTensor {
        try shape.requirePositive("index tensor", of: "makeIndexTensor")
        return IndexTensor(zeros: shape)
    }

    public func upload(_ host: HostTensor) throws -> Tensor {
        try host.shape.requirePositive("tensor", of: "upload")
        return Tensor(shape: host.shape, values: host.values)
    }

    public func write(_ host: HostTensor, into tensor: Tensor) throws {
        try host.shape.require(tensor.shape, "host tensor", of: "write")
        tensor.values = host.values
    }

    public func download(_ tensor: Tensor) throws -> HostTensor {
        HostTensor(shape: tensor.shape, values: tensor.values)
    }

    public func downloadIndices(_ tensor: IndexTensor) throws -> [Int32] { tensor.values }

    public func reshaped(_ tensor: Tensor, to shape: TensorShape) throws -> Tensor {
        try checkReshape(tensor.shape, to: shape)
        return Tensor(shape: shape, sharing: tensor.storage)
    }

    public func copyElements(_ source: Tensor, from sourceOffset: Int, into destination: Tensor, at destinationOffset: Int,
                             count: Int) throws {
        try checkCopy(source: source.shape, from: sourceOffset, destination: destination.shape, at: destinationOffset,
                      count: count)
        destination.values[destinationOffset..<destinationOffset + count] = source.values[sourceOffset..<sourceOffset + count]
    }
}

extension ReferenceTensor where Element == Float {
    /// The values widened to Double, the precision `ReferenceMath` works in.
    var doubles: [Double] { values.map(Double.init) }

    /// Stores `result` rounded to float32.
    func store(_ result: [Double]) {
        precondition(result.count == values.count, "result size \(result.count) for tensor \(shape)")
        values = result.map(Float.init)
    }
}
