/// Central finite differences in Double: the independent check on every hand-written backward pass.
public enum FiniteDifference {
    /// The gradient of the scalar `L(x) = Σ_k f(x)[k] · outputWeights[k]` with respect to each element of `x`,
    /// by `(L(x + h·e_i) − L(x − h·e_i)) / 2h`.
    ///
    /// With random `outputWeights` (the seed gradient `dL/dy`), this is exactly what a backward pass computes
    /// from `gradOutput = outputWeights`.
    public static func gradient(
        at x: [Double], step: Double = 1e-5, outputWeights: [Double], of f: ([Double]) -> [Double]
    ) -> [Double] {
        func loss(_ point: [Double]) -> Double {
            zip(f(point), outputWeights).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var point = x
        return x.indices.map { index in
            point[index] = x[index] + step
            let above = loss(point)
            point[index] = x[index] - step
            let below = loss(point)
            point[index] = x[index]
            return (above - below) / (2 * step)
        }
    }
}
