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
