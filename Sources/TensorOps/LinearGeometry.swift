/// A fully connected layer's shapes: input N×In, weight Out×In (PyTorch's layout), output N×Out.
public struct LinearGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let weight: TensorShape
    public var output: TensorShape { [batch, outFeatures] }
    public var batch: Int { input[0] }
    public var inFeatures: Int { input[1] }
    public var outFeatures: Int { weight[0] }

    /// - Throws: `ShapeError` unless input is N×In and weight Out×In with matching In, all positive.
    public init(input: TensorShape, weight: TensorShape) throws(ShapeError) {
        let op = "linear"
        try input.requirePositive("input", of: op)
        try weight.requirePositive("weight", of: op)
        guard input.rank == 2, weight.rank == 2, input[1] == weight[1] else {
            throw ShapeError(op: op, message: "input \(input) and weight \(weight) must be N×In and Out×In")
        }
        self.input = input
        self.weight = weight
    }

    public func requireBias(_ bias: TensorShape?) throws(ShapeError) {
        try bias?.require([outFeatures], "bias", of: "linear")
    }
}
