import ReferenceBackend
import TensorOps

/// Every backward pass of a differentiable case against central finite differences of its forward pass, both run
/// by the reference backend in float64 (`ReferencePrecision.float64`), so what is checked is exactly the op the
/// parity tests hold the device to.
public enum GradientCheck {
    /// One gradient of one backward direction.
    public struct Result: Sendable, CustomStringConvertible {
        public let op: String
        public let shapes: String
        public let direction: Direction
        public let input: String
        /// ‖analytic − numeric‖₂ / ‖numeric‖₂.
        public let relativeL2Error: Double

        public var passed: Bool { relativeL2Error <= Tolerance.finiteDifference }
        public var description: String {
            "\(op) \(direction.rawValue) \(shapes): grad \(input) rel L2 \(relativeL2Error)"
        }
    }

    /// Checks every gradient of every backward direction of `opCase` at inputs drawn from `seed`.
    public static func check(_ opCase: some DifferentiableOpCase, seed: UInt64 = 0xFD_5EED) throws -> [Result] {
        let backend = ReferenceBackend(precision: .float64)
        var random = SeededGenerator(seed: seed)
        let inputs = opCase.inputShapes.indices.map { opCase.input($0, using: &random).map(Double.init) }
        func forward(_ values: [[Double]]) throws -> ReferenceBackend.Tensor {
            let tensors = try zip(values, opCase.inputShapes).map { try backend.upload($0, shape: $1) }
            return try opCase.forward(tensors, on: backend)
        }
        let outputShape = try forward(inputs).shape
        let gradOutput = random.normals(outputShape.count)
        var results: [Result] = []
        for direction in opCase.directions where direction != .forward && direction != .step {
            let tensors = try zip(inputs, opCase.inputShapes).map { try backend.upload($0, shape: $1) }
            let gradients = try opCase.gradients(direction, tensors, gradOutput: try backend.upload(gradOutput, shape: outputShape),
                                                 on: backend)
            for (index, gradient) in gradients.sorted(by: { $0.key < $1.key }) {
                var failure: (any Error)?
                let numeric = FiniteDifference.gradient(at: inputs[index], outputWeights: gradOutput) { value in
                    var varied = inputs
                    varied[index] = value
                    do { return backend.downloadDoubles(try forward(varied)) } catch {
                        failure = error
                        return gradOutput.map { _ in .nan }
                    }
                }
                if let failure { throw failure }
                let error = ErrorMetrics(actual: backend.downloadDoubles(gradient), expected: numeric)
                results.append(Result(op: opCase.op, shapes: opCase.shapeDescription, direction: direction,
                                      input: opCase.inputNames[index], relativeL2Error: error.relativeL2))
            }
        }
        return results
    }
}
