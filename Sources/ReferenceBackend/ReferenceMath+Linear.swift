import TensorOps

extension ReferenceMath {
    /// `y[n,o] = b[o] + Σ_i x[n,i] · w[o,i]`.
    public static func linearForward(input x: [Double], weight w: [Double], bias b: [Double]?, _ g: LinearGeometry)
        -> [Double]
    {
        var y = [Double](repeating: 0, count: g.output.count)
        for n in 0..<g.batch {
            for o in 0..<g.outFeatures {
                var sum = b?[o] ?? 0
                for i in 0..<g.inFeatures { sum += x[n * g.inFeatures + i] * w[o * g.inFeatures + i] }
                y[n * g.outFeatures + o] = sum
            }
        }
        return y
    }

    /// `dx[n,i] = Σ_o dy[n,o] · w[o,i]`.
    public static func linearBackwardInput(gradOutput dy: [Double], weight w: [Double], _ g: LinearGeometry)
        -> [Double]
    {
        var dx = [Double](repeating: 0, count: g.input.count)
        for n in 0..<g.batch {
            for i in 0..<g.inFeatures {
                var sum = 0.0
                for o in 0..<g.outFeatures { sum += dy[n * g.outFeatures + o] * w[o * g.inFeatures + i] }
                dx[n * g.inFeatures + i] = sum
            }
        }
        return dx
    }

    /// `dw[o,i] = Σ_n dy[n,o] · x[n,i]`, `db[o] = Σ_n dy[n,o]`.
    public static func linearBackwardWeight(gradOutput dy: [Double], input x: [Double], _ g: LinearGeometry)
        -> (weight: [Double], bias: [Double])
    {
        var dw = [Double](repeating: 0, count: g.weight.count)
        var db = [Double](repeating: 0, count: g.outFeatures)
        for o in 0..<g.outFeatures {
            for n in 0..<g.batch {
                db[o] += dy[n * g.outFeatures + o]
                for i in 0..<g.inFeatures { dw[o * g.inFeatures + i] += dy[n * g.outFeatures + o] * x[n * g.inFeatures + i] }
            }
        }
        return (dw, db)
    }
}
