/// Constant padding of the two spatial axes of an NCHW tensor (ONNX Pad, mode constant).
public struct Pad2DGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let output: TensorShape
    public let padding: Padding2D

    /// - Throws: `ShapeError` unless the input is NCHW and the padding from 0 to `TensorShape.maximumExtent`.
    public init(input: TensorShape, padding: Padding2D) throws(ShapeError) {
        try input.requireNCHW("input", of: "pad2d")
        guard padding.isInRange else {
            throw ShapeError(op: "pad2d", message: "padding \(padding) must be from 0 to \(TensorShape.maximumExtent)")
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

/// A permutation of a tensor's axes (ONNX Transpose): output axis `i` is input axis `permutation[i]`.
public struct PermuteGeometry: Hashable, Sendable {
    /// The kernels address up to this many axes.
    public static let maximumRank = 6

    public let input: TensorShape
    public let permutation: [Int]
    public let output: TensorShape

    /// - Throws: `ShapeError` unless `permutation` lists each of the input's axes once (rank ≤ `maximumRank`).
    public init(input: TensorShape, permutation: [Int]) throws(ShapeError) {
        try input.requirePositive("input", of: "permute")
        guard permutation.sorted() == Array(0..<input.rank) else {
            throw ShapeError(op: "permute", message: "\(permutation) is not a permutation of the \(input.rank) axes of \(input)")
        }
        guard input.rank <= Self.maximumRank else {
            throw ShapeError(op: "permute", message: "input \(input) has more than \(Self.maximumRank) axes")
        }
        self.input = input
        self.permutation = permutation
        output = TensorShape(permutation.map { input[$0] })
    }

    /// The permutation that undoes this one (the gradient's).
    public var inverse: PermuteGeometry {
        var inverse = permutation
        for (axis, source) in permutation.enumerated() { inverse[source] = axis }
        return try! PermuteGeometry(input: output, permutation: inverse)
    }

    /// For each output axis, the input's stride along it (row-major input).
    public var inputStrides: [Int] { permutation.map { input.strides[$0] } }
}

/// The elements one axis of a slice takes: `count` of them from `start`, `step` apart (negative: backwards).
public struct AxisRange: Hashable, Sendable, CustomStringConvertible {
    public var start: Int
    public var step: Int
    public var count: Int

    public init(start: Int, step: Int = 1, count: Int) {
        (self.start, self.step, self.count) = (start, step, count)
    }

    /// The whole of an axis of `extent`.
    public static func whole(_ extent: Int) -> AxisRange { AxisRange(start: 0, count: extent) }

    public var description: String { "\(start):\(start + count * step):\(step)" }
}

/// A strided slice (ONNX Slice, Split, Gather of one index or an evenly spaced run): one `AxisRange` per input axis.
public struct SliceGeometry: Hashable, Sendable {
    public let input: TensorShape
    public let ranges: [AxisRange]
    public let output: TensorShape

    /// - Throws: `ShapeError` unless there is one range per axis (rank ≤ `PermuteGeometry.maximumRank`), each taking
    ///   at least one element, all inside the axis.
    public init(input: TensorShape, ranges: [AxisRange]) throws(ShapeError) {
        try input.requirePositive("input", of: "slice")
        guard ranges.count == input.rank, input.rank <= PermuteGeometry.maximumRank else {
            throw ShapeError(op: "slice", message: "\(ranges.count) ranges for input \(input) (at most "
                + "\(PermuteGeometry.maximumRank) axes)")
        }
        for (axis, range) in ranges.enumerated() {
            let last = range.start + (range.count - 1) * range.step
            guard range.count >= 1, range.step != 0, (0..<input[axis]).contains(range.start),
                  (0..<input[axis]).contains(last)
            else {
                throw ShapeError(op: "slice", message: "range \(range) is empty or outside axis \(axis) of \(input)")
            }
        }
        self.input = input
        self.ranges = ranges
        output = TensorShape(ranges.map(\.count))
    }

    /// Where the first output element sits in the input.
    public var base: Int { zip(ranges, input.strides).reduce(0) { $0 + $1.0.start * $1.1 } }
}

// MARK: - Descriptor

/// The layout family (Kernels/layout.cl, `OpenCLBackend+Layout`, `ReferenceMath+Layout`): concatenation, constant
/// padding, permutation of axes.
public enum LayoutOp: OpFamily {
    public static let parityCases: [any OpCase] = [
        ConcatCase(inputs: [[2, 2, 5, 6], [2, 3, 5, 6], [2, 1, 5, 6]]),
        Pad2DCase(input: [2, 3, 5, 6], Padding2D(top: 1, left: 0, bottom: 2, right: 3), value: 0),
        Pad2DCase(input: [1, 2, 4, 4], Padding2D(1), value: -1.5),
        PermuteCase(input: [3, 17], [1, 0]),
        // Whole 16 × 16 blocks (the matrix kernel's vector path) and partial ones.
        PermuteCase(input: [40, 35], [1, 0]),
        // NCHW → NHWC and back (ConvNeXt's LayerNorm), attention heads (ViT), six axes.
        PermuteCase(input: [2, 5, 4, 3], [0, 2, 3, 1]),
        PermuteCase(input: [2, 4, 3, 5], [0, 3, 1, 2]),
        PermuteCase(input: [2, 7, 3, 4], [0, 2, 1, 3]),
        PermuteCase(input: [2, 1, 3, 2, 2, 3], [5, 3, 0, 4, 2, 1]),
        // The tiled gathers: NCHW → NHWC with whole and partial 16 × 16 tiles over a batch, tiles over two batch
        // axes.
        PermuteCase(input: [2, 20, 17, 18], [0, 2, 3, 1]),
        PermuteCase(input: [3, 17, 2, 19], [2, 0, 3, 1]),
        // ViT's class token, a channel run (Split), every other column backwards.
        SliceCase(input: [2, 5, 8], [.whole(2), AxisRange(start: 0, count: 1), .whole(8)]),
        SliceCase(input: [2, 6, 5, 4], [.whole(2), AxisRange(start: 2, count: 3), .whole(5), .whole(4)]),
        SliceCase(input: [3, 4, 9], [AxisRange(start: 1, count: 2), .whole(4), AxisRange(start: 8, step: -2, count: 4)]),
        // Merged rows longer than one work-item's run.
        SliceCase(input: [2, 4, 300], [.whole(2), AxisRange(start: 1, count: 2), .whole(300)]),
    ]

    public static let gradientCases: [any DifferentiableOpCase] = [
        ConcatCase(inputs: [[2, 1, 3, 2], [2, 3, 3, 2], [2, 2, 3, 2]]),
        Pad2DCase(input: [1, 2, 3, 4], Padding2D(top: 1, left: 0, bottom: 2, right: 1), value: 0.5),
        PermuteCase(input: [3, 4], [1, 0]),
        PermuteCase(input: [2, 3, 4], [2, 0, 1]),
        PermuteCase(input: [1, 3, 17, 2], [0, 2, 3, 1]),
        SliceCase(input: [2, 5, 3], [.whole(2), AxisRange(start: 4, step: -2, count: 2), AxisRange(start: 1, count: 2)]),
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

/// An axis permutation; its gradient is the inverse permutation of ∂L/∂output, so the backward pass runs the same op.
public struct PermuteCase: DifferentiableOpCase {
    public let geometry: PermuteGeometry

    init(input: TensorShape, _ permutation: [Int]) { geometry = try! PermuteGeometry(input: input, permutation: permutation) }

    public var op: String { "permute" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(geometry.input) perm \(geometry.permutation)" }
    public var inputShapes: [TensorShape] { [geometry.input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.permute(input: inputs[0], output: output, permutation: geometry.permutation)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(geometry.input)
        try backend.permuteBackward(gradOutput: gradOutput, gradInput: gradInput, permutation: geometry.permutation)
        return [0: gradInput]
    }
}

/// A slice; its gradient puts ∂L/∂output back at the sliced positions and zero elsewhere.
public struct SliceCase: DifferentiableOpCase {
    public let geometry: SliceGeometry

    init(input: TensorShape, _ ranges: [AxisRange]) { geometry = try! SliceGeometry(input: input, ranges: ranges) }

    public var op: String { "slice" }
    public var directions: [Direction] { [.forward, .backward] }
    public var shapeDescription: String { "x\(geometry.input) [\(geometry.ranges.map(\.description).joined(separator: ", "))]" }
    public var inputShapes: [TensorShape] { [geometry.input] }
    public var inputNames: [String] { ["input"] }

    public func forward<B: Backend>(_ inputs: [B.Tensor], on backend: B) throws -> B.Tensor {
        let output = try backend.makeTensor(geometry.output)
        try backend.sliceForward(input: inputs[0], output: output, ranges: geometry.ranges)
        return output
    }

    public func gradients<B: Backend>(_ direction: Direction, _ inputs: [B.Tensor], gradOutput: B.Tensor, on backend: B)
        throws -> [Int: B.Tensor]
    {
        let gradInput = try backend.makeTensor(geometry.input)
        try backend.sliceBackward(gradOutput: gradOutput, gradInput: gradInput, ranges: geometry.ranges)
        return [0: gradInput]
    }
}

// MARK: - Cost

extension OpCost {
    /// Padding and permutation move data and compute nothing.
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

    /// Output axis `i` is input axis `permutation[i]` (ONNX Transpose).
    public func permute(input: Tensor, output: Tensor, permutation: [Int]) throws {
        let checked = Checked(try checkPermute(input: input.shape, output: output.shape, permutation: permutation))
        try permute(checked, input: input, output: output)
    }

    /// The elements `ranges` (one per input axis) select, in order.
    public func sliceForward(input: Tensor, output: Tensor, ranges: [AxisRange]) throws {
        let checked = Checked(try checkSlice(input: input.shape, output: output.shape, ranges: ranges))
        try sliceForward(checked, input: input, output: output)
    }

    /// The gradient of `sliceForward`: `gradOutput` at the selected positions, zero elsewhere.
    public func sliceBackward(gradOutput: Tensor, gradInput: Tensor, ranges: [AxisRange]) throws {
        let checked = Checked(try checkSlice(input: gradInput.shape, output: gradOutput.shape, ranges: ranges))
        try sliceBackward(checked, gradOutput: gradOutput, gradInput: gradInput)
    }

    /// The gradient of `permute`: the inverse permutation.
    public func permuteBackward(gradOutput: Tensor, gradInput: Tensor, permutation: [Int]) throws {
        let geometry = try checkPermute(input: gradInput.shape, output: gradOutput.shape, permutation: permutation)
        try permute(Checked(geometry.inverse), input: gradOutput, output: gradInput)
    }
}

// MARK: - Shape checks

extension Backend {
    func checkPad2d(input: TensorShape, output: TensorShape, padding: Padding2D) throws -> Pad2DGeometry {
        let geometry = try Pad2DGeometry(input: input, padding: padding)
        try output.require(geometry.output, "output", of: "pad2d")
        return geometry
    }

    func checkSlice(input: TensorShape, output: TensorShape, ranges: [AxisRange]) throws -> SliceGeometry {
        let geometry = try SliceGeometry(input: input, ranges: ranges)
        try output.require(geometry.output, "output", of: "slice")
        return geometry
    }

    func checkPermute(input: TensorShape, output: TensorShape, permutation: [Int]) throws -> PermuteGeometry {
        let geometry = try PermuteGeometry(input: input, permutation: permutation)
        try output.require(geometry.output, "output", of: "permute")
        return geometry
    }

    func checkConcat(inputs: [TensorShape], output: TensorShape) throws -> ConcatGeometry {
        let geometry = try ConcatGeometry(inputs: inputs)
        try output.require(geometry.output, "output", of: "concat")
        return geometry
    }
}
