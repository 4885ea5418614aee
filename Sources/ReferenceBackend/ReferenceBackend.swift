import TensorOps

/// A float32 tensor in host memory, owned by the reference backend.
public final class ReferenceTensor: BackendTensor {
    public let shape: TensorShape
    public var values: [Float]

    init(shape: TensorShape, values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// Max-pool argmax indices in host memory.
public final class ReferenceIndexTensor: BackendTensor {
    public let shape: TensorShape
    public var values: [Int32]

    init(shape: TensorShape) {
        self.shape = shape
        self.values = [Int32](repeating: 0, count: shape.count)
    }
}

/// The CPU reference backend: `ReferenceMath` in Double over float32 tensors, rounding to float32 only where a
/// result is stored. It is the yardstick the OpenCL backend is measured against (`convlens verify`), and the
/// backend `--backend cpu` selects.
public final class ReferenceBackend: Backend, Sendable {
    public init() {}

    public var name: String { "cpu reference" }

    public func makeTensor(_ shape: TensorShape) throws -> ReferenceTensor {
        try shape.requirePositive("tensor", of: "makeTensor")
        return ReferenceTensor(shape: shape, values: [Float](repeating: 0, count: shape.count))
    }

    public func makeIndexTensor(_ shape: TensorShape) throws -> ReferenceIndexTensor {
        try shape.requirePositive("index tensor", of: "makeIndexTensor")
        return ReferenceIndexTensor(shape: shape)
    }

    public func upload(_ host: HostTensor) throws -> ReferenceTensor {
        try host.shape.requirePositive("tensor", of: "upload")
        return ReferenceTensor(shape: host.shape, values: host.values)
    }

    public func download(_ tensor: ReferenceTensor) throws -> HostTensor {
        HostTensor(shape: tensor.shape, values: tensor.values)
    }

    public func downloadIndices(_ tensor: ReferenceIndexTensor) throws -> [Int32] { tensor.values }
}

extension ReferenceTensor {
    /// The values widened to Double, the precision `ReferenceMath` works in.
    var doubles: [Double] { values.map(Double.init) }

    /// Stores `result` rounded to float32.
    func store(_ result: [Double]) {
        precondition(result.count == values.count, "result size \(result.count) for tensor \(shape)")
        values = result.map(Float.init)
    }
}
