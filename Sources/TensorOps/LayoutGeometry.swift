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
