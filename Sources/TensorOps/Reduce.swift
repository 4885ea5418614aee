/// What a reduction computes over its axes (ONNX ReduceSum, ReduceMean, ReduceMax).
public enum Reduction: String, CaseIterable, Hashable, Sendable {
    case sum, mean, max

    /// The kernels' REDUCE_OP define.
    public var code: Int {
        switch self {
        case .sum: 0
        case .mean: 1
        case .max: 2
        }
    }
}

/// A reduction over a run of adjacent axes `axes` of `input`: the input viewed as outer × R × inner, R the product
/// of the reduced axes. (Reductions over axes that are not adjacent permute them together first.)
public struct ReduceGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let axes: ClosedRange<Int>
    /// The output keeps the reduced axes as 1s (ONNX keepdims) or drops them.
    public let keepDimensions: Bool

    /// - Throws: `ShapeError` unless the axes lie inside the input's and leave a non-empty output.
    public init(input: TensorShape, axes: ClosedRange<Int>, keepDimensions: Bool) throws(ShapeError) {
        try input.requirePositive("input", of: "reduce")
        guard axes.lowerBound >= 0, axes.upperBound < input.rank, keepDimensions || axes.count < input.rank else {
            throw ShapeError(op: "reduce", message: "axes \(axes.lowerBound)…\(axes.upperBound) do not fit input \(input)"
                + (keepDimensions ? "" : " (reducing every axis without keepdims leaves no shape)"))
        }
        self.input = input
        self.axes = axes
        self.keepDimensions = keepDimensions
    }

    public var outer: Int { input.dimensions[..<axes.lowerBound].reduce(1, *) }
    public var reduced: Int { input.dimensions[axes].reduce(1, *) }
    public var inner: Int { input.dimensions[(axes.upperBound + 1)...].reduce(1, *) }

    public var output: TensorShape {
        let dims = input.dimensions
        return TensorShape(keepDimensions
            ? dims.indices.map { axes.contains($0) ? 1 : dims[$0] }
            : dims.indices.filter { !axes.contains($0) }.map { dims[$0] })
    }
}

// MARK: - Descriptor

/// The reduction family (Kernels/reduce.cl, `OpenCLBackend+Reduce`, `ReferenceMath+Reduce`).
public enum ReduceOp: OpFamily {
    public static let parityCases: [any OpCase] = Reduction.allCases.flatMap { op in
        [
            // Channels of NCHW (CBAM's channel pooling), spatial axes, the last axis of tokens, more rows than a
            // work-item's run.
            ReduceCase(op, input: [2, 6, 5, 4], axes: 1...1, keepDimensions: true),
            ReduceCase(op, input: [2, 3, 7, 9], axes: 2...3, keepDimensions: false),
            ReduceCase(op, input: [3, 5, 40], axes: 2...2, keepDimensions: false),
            ReduceCase(op, input: [2, 300], axes: 0...1, keepDimensions: true),
        ]
    }

    public static let gradientCases: [any DifferentiableOpCase] = Reduction.allCases.flatMap { op in
        [
            ReduceCase(op, input: [2, 4, 3, 2], axes: 1...1, keepDimensions: true),
            ReduceCase(op, input: [2, 3, 4], axes: 1...2, keepDimensions: false),
        ]
    }
}

/// Inputs standard normal (ties of a maximum have probability 0; the kernels split a tie's gradient evenly, as
/// PyTorch's amax does).
public struct ReduceCase: DifferentiableOpCase {
    public let reduction: Reduction
    public let geometry: ReduceGeometry

    init(_ op: Reduction, input: TensorShape, axes: ClosedRange<Int>, keepDimensions: Bool) {
        reduction = op
        geometry = try! ReduceGeometry(input: input, axes: axes, keepDimensions: keepDimensions)
    }

    public var op: String { "reduce_\(reduction.rawValue)" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String {
        "x\(geometry.input) axes \(geometry.axes.lowerBound)…\(geometry.axes.upperBound)"
            + (geometry.keepDimensions ? " keepdims" : "")
    }
    public var inputShapes: [TensorShape] { [geometry.input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.reduceForward(reduction, input: inputs[0], output: output, axes: geometry.axes)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let output = try forward(inputs, on: backend)
        let gradInput = try backend.makeTensor(geometry.input)
        try backend.reduceBackward(reduction, input: inputs[0], output: output, gradOutput: gradOutput,
                                   gradInput: gradInput, axes: geometry.axes)
        return [0: gradInput]
    }
}

// MARK: - Cost

extension ReduceGeometry {
    /// One pass over the input (two for a maximum's backward: the ties, then the gradient).
    public func cost(backward: Bool) -> OpCost {
        OpCost(flops: input.count * (backward ? 2 : 1), bytes: OpCost.traffic(input.count, backward ? input.count : output.count))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    /// `output` = the sum, mean or maximum of `input` over the adjacent `axes`, kept as 1s when `output` has the
    /// input's rank.
    public func reduceForward(_ op: Reduction, input: Tensor, output: Tensor, axes: ClosedRange<Int>) throws {
        let checked = Checked(try checkReduce(input: input.shape, output: output.shape, axes: axes))
        try reduceForward(checked, op, input: input, output: output)
    }

    /// ∂L/∂input: ∂L/∂output spread over the reduced axes (divided by their size for a mean; for a maximum, to the
    /// elements equal to it, split evenly among ties). `output` is the forward result.
    public func reduceBackward(_ op: Reduction, input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor,
                               axes: ClosedRange<Int>) throws {
        let checked = Checked(try checkReduce(input: input.shape, output: output.shape, axes: axes))
        try gradOutput.shape.require(output.shape, "gradOutput", of: "reduce")
        try gradInput.shape.require(input.shape, "gradInput", of: "reduce")
        try reduceBackward(checked, op, input: input, output: output, gradOutput: gradOutput, gradInput: gradInput)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkReduce(input: TensorShape, output: TensorShape, axes: ClosedRange<Int>) throws -> ReduceGeometry {
        let keep = output.rank == input.rank
        let geometry = try ReduceGeometry(input: input, axes: axes, keepDimensions: keep)
        try output.require(geometry.output, "output", of: "reduce")
        return geometry
    }
}
