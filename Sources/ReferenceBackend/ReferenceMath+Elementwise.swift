import Foundation
import TensorOps

extension ReferenceMath {
    /// `a ∘ b` with NumPy broadcasting.
    public static func binaryForward(_ op: BinaryOp, _ a: [Double], _ b: [Double], _ g: BroadcastGeometry) -> [Double] {
        var y = [Double](repeating: 0, count: g.output.count)
        forEachBroadcastTriple(g) { outputIndex, aIndex, bIndex in y[outputIndex] = apply(op, a[aIndex], b[bIndex]) }
        return y
    }

    /// The gradients of `a ∘ b` with respect to `a` and `b`, each summed over the axes it was broadcast along.
    public static func binaryBackward(
        _ op: BinaryOp, _ a: [Double], _ b: [Double], gradOutput dy: [Double], _ g: BroadcastGeometry
    ) -> (a: [Double], b: [Double]) {
        var da = [Double](repeating: 0, count: g.a.count)
        var db = [Double](repeating: 0, count: g.b.count)
        forEachBroadcastTriple(g) { outputIndex, aIndex, bIndex in
            switch op {
            case .add:
                da[aIndex] += dy[outputIndex]
                db[bIndex] += dy[outputIndex]
            case .sub:
                da[aIndex] += dy[outputIndex]
                db[bIndex] -= dy[outputIndex]
            case .mul:
                da[aIndex] += dy[outputIndex] * b[bIndex]
                db[bIndex] += dy[outputIndex] * a[aIndex]
            case .div:
                da[aIndex] += dy[outputIndex] / b[bIndex]
                db[bIndex] -= dy[outputIndex] * a[aIndex] / (b[bIndex] * b[bIndex])
            }
        }
        return (da, db)
    }

    static func apply(_ op: BinaryOp, _ x: Double, _ y: Double) -> Double {
        switch op {
        case .add: x + y
        case .sub: x - y
        case .mul: x * y
        case .div: x / y
        }
    }

    /// Calls `body(outputIndex, aIndex, bIndex)` for every output element and the operand elements it combines.
    static func forEachBroadcastTriple(_ g: BroadcastGeometry, _ body: (Int, Int, Int) -> Void) {
        let dims = g.kernelOutput
        let aStrides = g.kernelStrides(g.kernelA), bStrides = g.kernelStrides(g.kernelB)
        var outputIndex = 0
        for i0 in 0..<dims[0] {
            for i1 in 0..<dims[1] {
                for i2 in 0..<dims[2] {
                    for i3 in 0..<dims[3] {
                        let position = [i0, i1, i2, i3]
                        let aIndex = zip(position, aStrides).reduce(0) { $0 + $1.0 * $1.1 }
                        let bIndex = zip(position, bStrides).reduce(0) { $0 + $1.0 * $1.1 }
                        body(outputIndex, aIndex, bIndex)
                        outputIndex += 1
                    }
                }
            }
        }
    }

    /// `x · scale[c] + shift[c]` over a tensor whose axis 1 is channels.
    public static func channelAffineForward(input x: [Double], scale: [Double], shift: [Double], shape: TensorShape)
        -> [Double]
    {
        let inner = shape.count / (shape[0] * shape[1])
        return x.indices.map { index in
            let channel = (index / inner) % shape[1]
            return x[index] * scale[channel] + shift[channel]
        }
    }

    /// Softmax over `g`'s axis, each group shifted by its maximum for stability.
    public static func softmaxForward(input x: [Double], _ g: SoftmaxGeometry) -> [Double] {
        var y = x
        for group in softmaxGroups(g) {
            let largest = group.map { x[$0] }.max() ?? 0
            let exponents = group.map { exp(x[$0] - largest) }
            let total = exponents.reduce(0, +)
            for (index, value) in zip(group, exponents) { y[index] = value / total }
        }
        return y
    }

    /// `dx = y · (dy − Σ dy·y)` per group.
    public static func softmaxBackward(output y: [Double], gradOutput dy: [Double], _ g: SoftmaxGeometry) -> [Double] {
        var dx = y
        for group in softmaxGroups(g) {
            let dot = group.reduce(0) { $0 + dy[$1] * y[$1] }
            for index in group { dx[index] = y[index] * (dy[index] - dot) }
        }
        return dx
    }

    /// The flat indices of each group softmax normalizes together: `extent` values `inner` apart.
    private static func softmaxGroups(_ g: SoftmaxGeometry) -> [[Int]] {
        (0..<g.outer * g.inner).map { row in
            let base = row / g.inner * g.extent * g.inner + row % g.inner
            return (0..<g.extent).map { base + $0 * g.inner }
        }
    }
}
