/// A float32 tensor in host memory, row-major (C order). The exchange format between backends, files and tests.
public struct HostTensor: Equatable, Sendable {
    public let shape: TensorShape
    public var values: [Float]

    /// - Precondition: `values.count == shape.count`.
    public init(shape: TensorShape, values: [Float]) {
        precondition(values.count == shape.count, "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    public init(zeros shape: TensorShape) {
        self.init(shape: shape, values: [Float](repeating: 0, count: shape.count))
    }

    /// Values drawn from a standard normal distribution with `generator`, times `scale`.
    public static func randomNormal(
        _ shape: TensorShape, scale: Float = 1, using generator: inout SeededGenerator
    ) -> HostTensor {
        HostTensor(shape: shape, values: (0..<shape.count).map { _ in Float(generator.nextNormal()) * scale })
    }
}
