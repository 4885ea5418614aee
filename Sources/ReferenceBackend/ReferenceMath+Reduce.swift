import TensorOps

extension ReferenceMath {
    /// The sum, mean or maximum over R for each (outer, inner) position of the outer × R × inner view.
    public static func reduceForward(_ op: Reduction, input x: [Double], _ g: ReduceGeometry) -> [Double] {
        var y = [Double](repeating: 0, count: g.outer * g.inner)
        for o in 0..<g.outer {
            for i in 0..<g.inner {
                let values = (0..<g.reduced).map { x[(o * g.reduced + $0) * g.inner + i] }
                y[o * g.inner + i] = switch op {
                case .sum: values.reduce(0, +)
                case .mean: values.reduce(0, +) / Double(g.reduced)
                case .max: values.contains(where: \.isNaN) ? .nan : values.max() ?? 0
                }
            }
        }
        return y
    }

    /// dx: dy spread over R (over R for a mean; to the elements equal to the maximum, split among ties).
    public static func reduceBackward(_ op: Reduction, input x: [Double], output y: [Double], gradOutput dy: [Double],
                                      _ g: ReduceGeometry) -> [Double] {
        var dx = [Double](repeating: 0, count: x.count)
        for o in 0..<g.outer {
            for i in 0..<g.inner {
                let position = o * g.inner + i
                let indices = (0..<g.reduced).map { (o * g.reduced + $0) * g.inner + i }
                switch op {
                case .sum: for index in indices { dx[index] = dy[position] }
                case .mean: for index in indices { dx[index] = dy[position] / Double(g.reduced) }
                case .max:
                    let ties = indices.filter { x[$0] == y[position] }
                    for index in ties { dx[index] = dy[position] / Double(ties.count) }
                }
            }
        }
        return dx
    }
}
