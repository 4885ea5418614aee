import TensorOps

extension ReferenceMath {
    /// Channel concatenation of NCHW arrays.
    public static func concatForward(_ inputs: [[Double]], _ g: ConcatGeometry) -> [Double] {
        var y = [Double](repeating: 0, count: g.output.count)
        for (input, (shape, offset)) in zip(inputs, zip(g.inputs, g.channelOffsets)) {
            let block = shape[1] * shape[2] * shape[3]
            let outBlock = g.output[1] * shape[2] * shape[3]
            for n in 0..<shape[0] {
                let start = n * outBlock + offset * shape[2] * shape[3]
                y.replaceSubrange(start..<(start + block), with: input[(n * block)..<((n + 1) * block)])
            }
        }
        return y
    }

    /// The inverse of `concatForward`: each input's channel range of `dy`.
    public static func concatBackward(gradOutput dy: [Double], _ g: ConcatGeometry) -> [[Double]] {
        zip(g.inputs, g.channelOffsets).map { shape, offset in
            let block = shape[1] * shape[2] * shape[3]
            let outBlock = g.output[1] * shape[2] * shape[3]
            return (0..<shape[0]).flatMap { n in
                let start = n * outBlock + offset * shape[2] * shape[3]
                return dy[start..<(start + block)]
            }
        }
    }
    /// Each H×W plane surrounded by `value`.
    public static func pad2dForward(input x: [Double], value: Double, _ g: Pad2DGeometry) -> [Double] {
        var y = [Double](repeating: value, count: g.output.count)
        forEachPaddedPair(g) { inputIndex, outputIndex in y[outputIndex] = x[inputIndex] }
        return y
    }

    /// The interior of each gradient plane.
    public static func pad2dBackward(gradOutput dy: [Double], _ g: Pad2DGeometry) -> [Double] {
        var dx = [Double](repeating: 0, count: g.input.count)
        forEachPaddedPair(g) { inputIndex, outputIndex in dx[inputIndex] = dy[outputIndex] }
        return dx
    }

    /// Calls `body(inputIndex, outputIndex)` for every input element and where padding puts it.
    static func forEachPaddedPair(_ g: Pad2DGeometry, _ body: (Int, Int) -> Void) {
        let (height, width) = (g.input[2], g.input[3])
        let (outHeight, outWidth) = (g.output[2], g.output[3])
        for plane in 0..<(g.input[0] * g.input[1]) {
            for h in 0..<height {
                for w in 0..<width {
                    let outputIndex = (plane * outHeight + h + g.padding.top) * outWidth + w + g.padding.left
                    body((plane * height + h) * width + w, outputIndex)
                }
            }
        }
    }

    /// R×C → C×R.
    public static func transpose2d(input x: [Double], rows: Int, columns: Int) -> [Double] {
        (0..<(rows * columns)).map { index in x[(index % rows) * columns + index / rows] }
    }
}
