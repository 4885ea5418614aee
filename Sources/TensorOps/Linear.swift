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

// MARK: - Descriptor

/// The fully connected family (Kernels/linear.cl and gemm.cl, `OpenCLBackend+Linear`, `ReferenceMath+Linear`).
public enum LinearOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        LinearCase(input: [3, 17], outFeatures: 5, bias: true),
        LinearCase(input: [1, 64], outFeatures: 10, bias: false),
    ]
}

/// x (N×In), w (Out×In, scaled by 1/√In) and the bias when there is one.
public struct LinearCase: DifferentiableOpCase {
    public let geometry: LinearGeometry
    public let hasBias: Bool

    init(input: TensorShape, outFeatures: Int, bias: Bool) {
        geometry = try! LinearGeometry(input: input, weight: [outFeatures, input[1]])
        hasBias = bias
    }

    public var op: String { "linear" }
    public var directions: [Direction] { [.forward, .backwardInput, .backwardWeight] }
    public var shapeDescription: String {
        "x\(geometry.input) w\(geometry.outFeatures)×\(geometry.inFeatures)" + (hasBias ? " +bias" : "")
    }
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

    public func linearBackwardWeight(gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?) throws {
        let checked = Checked(try checkLinear(
            input: input.shape, weight: gradWeight.shape, bias: gradBias?.shape, output: gradOutput.shape))
        try linearBackwardWeight(
            checked, gradOutput: gradOutput, input: input, gradWeight: gradWeight, gradBias: gradBias)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkLinear(input: TensorShape, weight: TensorShape, bias: TensorShape?, output: TensorShape)
        throws -> LinearGeometry
    {
        let geometry = try LinearGeometry(input: input, weight: weight)
        try geometry.requireBias(bias)
        try output.require(geometry.output, "output", of: "linear")
        return geometry
    }
}
