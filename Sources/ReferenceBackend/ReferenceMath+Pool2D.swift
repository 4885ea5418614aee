import TensorOps

extension ReferenceMath {
    /// Max over each window (padding never wins); also returns the in-plane index `h·W + w` of the first
    /// maximum in scan order.
    public static func maxPool2dForward(input x: [Double], _ g: Pool2DGeometry) -> (output: [Double], argmax: [Int32]) {
        let p = g.parameters
        var y = [Double](repeating: 0, count: g.output.count)
        var argmax = [Int32](repeating: -1, count: g.output.count)
        for plane in 0..<g.planes {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    var best = -Double.infinity
                    var bestIndex = -1
                    for kh in 0..<p.kernel.height {
                        let ih = oh * p.stride.height - p.padding.top + kh * p.dilation.height
                        guard ih >= 0 && ih < g.inHeight else { continue }
                        for kw in 0..<p.kernel.width {
                            let iw = ow * p.stride.width - p.padding.left + kw * p.dilation.width
                            guard iw >= 0 && iw < g.inWidth else { continue }
                            let value = x[(plane * g.inHeight + ih) * g.inWidth + iw]
                            if value > best || value.isNaN || bestIndex < 0 {  // NaN wins, as in PyTorch
                                best = value
                                bestIndex = ih * g.inWidth + iw
                            }
                        }
                    }
                    let yIndex = (plane * g.outHeight + oh) * g.outWidth + ow
                    y[yIndex] = best
                    argmax[yIndex] = Int32(bestIndex)
                }
            }
        }
        return (y, argmax)
    }

    /// Each output gradient goes to its argmax; overlapping windows add up.
    public static func maxPool2dBackward(gradOutput dy: [Double], argmax: [Int32], _ g: Pool2DGeometry) -> [Double] {
        var dx = [Double](repeating: 0, count: g.input.count)
        let planeOut = g.outHeight * g.outWidth
        for (index, value) in dy.enumerated() {
            dx[(index / planeOut) * g.inHeight * g.inWidth + Int(argmax[index])] += value
        }
        return dx
    }

    /// Mean over each window with PyTorch's divisor (see `averageWindow`).
    public static func avgPool2dForward(input x: [Double], _ g: Pool2DGeometry) -> [Double] {
        var y = [Double](repeating: 0, count: g.output.count)
        forEachAverageWindow(g) { plane, yIndex, rows, columns, divisor in
            var sum = 0.0
            for ih in rows { for iw in columns { sum += x[(plane * g.inHeight + ih) * g.inWidth + iw] } }
            y[yIndex] = sum / Double(divisor)
        }
        return y
    }

    /// Spreads each output gradient evenly (÷ the same divisor) over the input elements of its window.
    public static func avgPool2dBackward(gradOutput dy: [Double], _ g: Pool2DGeometry) -> [Double] {
        var dx = [Double](repeating: 0, count: g.input.count)
        forEachAverageWindow(g) { plane, yIndex, rows, columns, divisor in
            for ih in rows {
                for iw in columns { dx[(plane * g.inHeight + ih) * g.inWidth + iw] += dy[yIndex] / Double(divisor) }
            }
        }
        return dx
    }

    /// PyTorch's average-pool window: it starts at `o·s − padBefore`, ends at `min(start + k, extent +
    /// padAfter)`; the window size counted with padding is taken before clipping to the input, the size without
    /// padding after. A ceil-mode window running past the padded edge is therefore not counted in full even with
    /// `countIncludePad`.
    static func forEachAverageWindow(
        _ g: Pool2DGeometry, _ body: (_ plane: Int, _ outputIndex: Int, Range<Int>, Range<Int>, _ divisor: Int) -> Void
    ) {
        let p = g.parameters
        for plane in 0..<g.planes {
            for oh in 0..<g.outHeight {
                let rowStart = oh * p.stride.height - p.padding.top
                let rowEnd = min(rowStart + p.kernel.height, g.inHeight + p.padding.bottom)
                let rows = max(rowStart, 0)..<min(rowEnd, g.inHeight)
                for ow in 0..<g.outWidth {
                    let columnStart = ow * p.stride.width - p.padding.left
                    let columnEnd = min(columnStart + p.kernel.width, g.inWidth + p.padding.right)
                    let columns = max(columnStart, 0)..<min(columnEnd, g.inWidth)
                    let divisor = p.countIncludePad
                        ? (rowEnd - rowStart) * (columnEnd - columnStart) : rows.count * columns.count
                    body(plane, (plane * g.outHeight + oh) * g.outWidth + ow, rows, columns, divisor)
                }
            }
        }
    }

    /// Mean of each H×W plane.
    public static func globalAvgPool2dForward(input x: [Double], shape: TensorShape) -> [Double] {
        let planeSize = shape[2] * shape[3]
        return (0..<(shape[0] * shape[1])).map { plane in
            x[(plane * planeSize)..<((plane + 1) * planeSize)].reduce(0, +) / Double(planeSize)
        }
    }

    public static func globalAvgPool2dBackward(gradOutput dy: [Double], inputShape shape: TensorShape) -> [Double] {
        let planeSize = shape[2] * shape[3]
        return (0..<shape.count).map { dy[$0 / planeSize] / Double(planeSize) }
    }
}
