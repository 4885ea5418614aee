/// Constant padding of the two spatial axes of an NCHW tensor (ONNX Pad, mode constant).
public struct Pad2DGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let output: TensorShape
    public let padding: Padding2D

    /// - Throws: `ShapeError` unless the input is NCHW and the padding non-negative.
    public init(input: TensorShape, padding: Padding2D) throws(ShapeError) {
        try input.requireNCHW("input", of: "pad2d")
        guard padding.isNonNegative else {
            throw ShapeError(op: "pad2d", message: "padding \(padding) must not be negative")
        }
        self.input = input
        self.padding = padding
        self.output = [
            input[0], input[1], input[2] + padding.top + padding.bottom, input[3] + padding.left + padding.right,
        ]
    }
}

extension TensorShape {
    /// Rows × columns when the last axis is the one reduced (softmax): every leading axis folds into rows.
    public var rowsAndColumns: (rows: Int, columns: Int) {
        let columns = dimensions.last ?? 1
        return (count / columns, columns)
    }

    /// Throws unless the tensor has a channel axis (rank ≥ 2) with `channels` entries.
    public func requireChannels(_ channels: Int, of op: String) throws(ShapeError) {
        try requirePositive("input", of: op)
        guard rank >= 2, self[1] == channels else {
            throw ShapeError(op: op, message: "input \(self) must have \(channels) channels on axis 1")
        }
    }
}

/// Channel concatenation: inputs N×Ci×H×W with equal N, H, W; output N×ΣCi×H×W.
public struct ConcatGeometry: Hashable, Sendable {
    public let inputs: [TensorShape]
    public let output: TensorShape

    /// - Throws: `ShapeError` when there is no input or the inputs disagree outside the channel axis.
    public init(inputs: [TensorShape]) throws(ShapeError) {
        let op = "concat"
        guard let first = inputs.first else { throw ShapeError(op: op, message: "needs at least one input") }
        for (index, shape) in inputs.enumerated() {
            try shape.requireNCHW("input \(index)", of: op)
            guard shape[0] == first[0], shape[2] == first[2], shape[3] == first[3] else {
                throw ShapeError(
                    op: op,
                    message: "inputs must agree except in channels: \(inputs.map(\.description).joined(separator: ", "))")
            }
        }
        self.inputs = inputs
        self.output = [first[0], inputs.reduce(0) { $0 + $1[1] }, first[2], first[3]]
    }

    /// The first output channel of each input.
    public var channelOffsets: [Int] {
        var offsets: [Int] = []
        var next = 0
        for shape in inputs {
            offsets.append(next)
            next += shape[1]
        }
        return offsets
    }
}

// MARK: - Descriptor

/// The layout family (Kernels/layout.cl, `OpenCLBackend+Layout`, `ReferenceMath+Layout`): concatenation, constant
/// padding, transposition.
public enum LayoutOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        ConcatCase(inputs: [[2, 2, 5, 6], [2, 3, 5, 6], [2, 1, 5, 6]]),
        Pad2DCase(input: [2, 3, 5, 6], Padding2D(top: 1, left: 0, bottom: 2, right: 3), value: 0),
        Pad2DCase(input: [1, 2, 4, 4], Padding2D(1), value: -1.5),
        Transpose2DCase(input: [3, 17]),
        // Whole 16 × 16 blocks (the kernel's vector path) and partial ones.
        Transpose2DCase(input: [40, 35]),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        ConcatCase(inputs: [[2, 1, 3, 2], [2, 3, 3, 2], [2, 2, 3, 2]]),
        Pad2DCase(input: [1, 2, 3, 4], Padding2D(top: 1, left: 0, bottom: 2, right: 1), value: 0.5),
        Transpose2DCase(input: [3, 4]),
    ]
}

public struct ConcatCase: DifferentiableOpCase {
    public let geometry: ConcatGeometry

    init(inputs: [TensorShape]) { geometry = try! ConcatGeometry(inputs: inputs) }

    public var op: String { "concat" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { geometry.inputs.map { "x\($0)" }.joined(separator: " ") }
    public var inputShapes: [TensorShape] { geometry.inputs }
    public var inputNames: [String] { geometry.inputs.indices.map { "input\($0)" } }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.concatForward(inputs, output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let grads = try geometry.inputs.map { try backend.makeTensor($0) }
        try backend.concatBackward(gradOutput: gradOutput, gradInputs: grads)
        return Dictionary(uniqueKeysWithValues: grads.enumerated().map { ($0.offset, $0.element) })
    }
}

public struct Pad2DCase: DifferentiableOpCase {
    public let geometry: Pad2DGeometry
    public let value: Float

    init(input: TensorShape, _ padding: Padding2D, value: Float) {
        geometry = try! Pad2DGeometry(input: input, padding: padding)
        self.value = value
    }

    public var op: String { "pad2d" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(geometry.input) p\(geometry.padding) value \(value)" }
    public var inputShapes: [TensorShape] { [geometry.input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.pad2dForward(input: inputs[0], output: output, padding: geometry.padding, value: value)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(geometry.input)
        try backend.pad2dBackward(gradOutput: gradOutput, gradInput: gradInput, padding: geometry.padding)
        return [0: gradInput]
    }
}

/// R×C → C×R; its gradient is the transpose of ∂L/∂output, so the backward pass runs the same op.
public struct Transpose2DCase: DifferentiableOpCase {
    public let input: TensorShape

    init(input: TensorShape) { self.input = input }

    public var op: String { "transpose2d" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(input)" }
    public var inputShapes: [TensorShape] { [input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor([input[1], input[0]])
        try backend.transpose2d(input: inputs[0], output: output)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(input)
        try backend.transpose2d(input: gradOutput, output: gradInput)
        return [0: gradInput]
    }
}

// MARK: - Cost

extension OpCost {
    /// Padding and transposition move data and compute nothing.
    public static func copy(input: Int, output: Int) -> OpCost {
        OpCost(flops: 0, bytes: OpCost.traffic(input, output))
    }
}

extension OpCost {
    /// Channel concatenation (either direction) moves every element once each way, computing nothing.
    public static func concat(_ geometry: ConcatGeometry) -> OpCost {
        OpCost(flops: 0, bytes: OpCost.traffic(geometry.output.count, geometry.output.count))
    }
}

// MARK: - Front door

/// The entry points callers use: each checks its shapes (the same message whichever backend runs), then hands the
/// backend its arguments with the proof of that check, which only TensorOps can make.
extension Backend {
    public func concatForward(_ inputs: [Tensor], output: Tensor) throws {
        let checked = Checked(try checkConcat(inputs: inputs.map(\.shape), output: output.shape))
        try concatForward(checked, inputs, output: output)
    }

    public func concatBackward(gradOutput: Tensor, gradInputs: [Tensor]) throws {
        let checked = Checked(try checkConcat(inputs: gradInputs.map(\.shape), output: gradOutput.shape))
        try concatBackward(checked, gradOutput: gradOutput, gradInputs: gradInputs)
    }

    public func pad2dForward(input: Tensor, output: Tensor, padding: Padding2D, value: Float) throws {
        let checked = Checked(try checkPad2d(input: input.shape, output: output.shape, padding: padding))
        try pad2dForward(checked, input: input, output: output, padding: padding, value: value)
    }

    public func pad2dBackward(gradOutput: Tensor, gradInput: Tensor, padding: Padding2D) throws {
        let checked = Checked(try checkPad2d(input: gradInput.shape, output: gradOutput.shape, padding: padding))
        try pad2dBackward(checked, gradOutput: gradOutput, gradInput: gradInput, padding: padding)
    }

    public func transpose2d(input: Tensor, output: Tensor) throws {
        let checked = Checked(try checkTranspose2d(input: input.shape, output: output.shape))
        try transpose2d(checked, input: input, output: output)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkPad2d(input: TensorShape, output: TensorShape, padding: Padding2D) throws -> Pad2DGeometry {
        let geometry = try Pad2DGeometry(input: input, padding: padding)
        try output.require(geometry.output, "output", of: "pad2d")
        return geometry
    }

    func checkTranspose2d(input: TensorShape, output: TensorShape) throws -> TensorShape {
        try input.requirePositive("input", of: "transpose2d")
        guard input.rank == 2 else { throw ShapeError(op: "transpose2d", message: "input \(input) must be 2-D") }
        try output.require([input[1], input[0]], "output", of: "transpose2d")
        return input
    }

    func checkConcat(inputs: [TensorShape], output: TensorShape) throws -> ConcatGeometry {
        let geometry = try ConcatGeometry(inputs: inputs)
        try output.require(geometry.output, "output", of: "concat")
        return geometry
    }
}
