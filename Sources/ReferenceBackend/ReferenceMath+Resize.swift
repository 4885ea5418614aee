import TensorOps

extension ReferenceMath {
    /// For output index `destination` along an axis of `input` → `output` pixels: the input indices it reads and
    /// their weights (bilinear: two taps; nearest: one).
    static func resizeTaps(_ destination: Int, input: Int, output: Int, _ mode: ResizeMode) -> [(Int, Double)] {
        switch mode {
        case .nearest:
            return [(min(destination * input / output, input - 1), 1)]
        case .bilinear(let align):
            let source = align
                ? (output > 1 ? Double(destination) * Double(input - 1) / Double(output - 1) : 0)
                : max((Double(destination) + 0.5) * Double(input) / Double(output) - 0.5, 0)
            let first = min(Int(source), input - 1), weight = source - Double(first)
            return [(first, 1 - weight), (min(first + 1, input - 1), weight)]
        }
    }

    public static func resizeForward(_ x: [Double], _ g: ResizeGeometry) -> [Double] {
        let (h, w, oh, ow) = (g.input[2], g.input[3], g.output[2], g.output[3])
        var y = [Double](repeating: 0, count: g.planes * oh * ow)
        for plane in 0..<g.planes {
            for row in 0..<oh {
                let rows = resizeTaps(row, input: h, output: oh, g.mode)
                for column in 0..<ow {
                    let columns = resizeTaps(column, input: w, output: ow, g.mode)
                    var sum = 0.0
                    for (r, wr) in rows { for (c, wc) in columns { sum += wr * wc * x[(plane * h + r) * w + c] } }
                    y[(plane * oh + row) * ow + column] = sum
                }
            }
        }
        return y
    }

    /// The transpose of `resizeForward`: each output gradient added to the input pixels it read, by their weights.
    public static func resizeBackward(_ dy: [Double], _ g: ResizeGeometry) -> [Double] {
        let (h, w, oh, ow) = (g.input[2], g.input[3], g.output[2], g.output[3])
        var dx = [Double](repeating: 0, count: g.input.count)
        for plane in 0..<g.planes {
            for row in 0..<oh {
                let rows = resizeTaps(row, input: h, output: oh, g.mode)
                for column in 0..<ow {
                    let gradient = dy[(plane * oh + row) * ow + column]
                    for (r, wr) in rows {
                        for (c, wc) in resizeTaps(column, input: w, output: ow, g.mode) {
                            dx[(plane * h + r) * w + c] += wr * wc * gradient
                        }
                    }
                }
            }
        }
        return dx
    }
}
