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

    /// The input position of every output element of a slice, in output order.
    static func slicedPositions(_ g: SliceGeometry) -> [Int] {
        let strides = g.input.strides
        var position = [Int](repeating: 0, count: g.ranges.count)
        return (0..<g.output.count).map { _ in
            let source = g.ranges.indices.reduce(0) { sum, axis in
                sum + (g.ranges[axis].start + position[axis] * g.ranges[axis].step) * strides[axis]
            }
            for axis in g.ranges.indices.reversed() {
                position[axis] += 1
                if position[axis] < g.ranges[axis].count { break }
                position[axis] = 0
            }
            return source
        }
    }

    public static func sliceForward(input x: [Double], _ g: SliceGeometry) -> [Double] {
        slicedPositions(g).map { x[$0] }
    }

    public static func sliceBackward(gradOutput dy: [Double], _ g: SliceGeometry) -> [Double] {
        var dx = [Double](repeating: 0, count: g.input.count)
        for (index, source) in slicedPositions(g).enumerated() { dx[source] = dy[index] }
        return dx
    }

    /// Each output element, walked in row-major order, read from the input at the permuted position.
    public static func permute(input x: [Double], _ g: PermuteGeometry) -> [Double] {
        let dims = g.output.dimensions, strides = g.inputStrides
        var position = [Int](repeating: 0, count: dims.count)
        return (0..<g.output.count).map { _ in
            let value = x[zip(position, strides).reduce(0) { $0 + $1.0 * $1.1 }]
            for axis in dims.indices.reversed() {
                position[axis] += 1
                if position[axis] < dims[axis] { break }
                position[axis] = 0
            }
            return value
        }
    }
}
