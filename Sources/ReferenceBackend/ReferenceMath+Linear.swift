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

extension ReferenceMath {
    /// `c[z] = a[z] · b[z]` for every product z of the batch (a shared operand read at z = 0).
    public static func matmulForward(a: [Double], b: [Double], _ g: MatMulGeometry) -> [Double] {
        var c = [Double](repeating: 0, count: g.output.count)
        for z in 0..<g.batch {
            let (ao, bo, co) = matmulOffsets(z, g)
            for i in 0..<g.m {
                for j in 0..<g.n {
                    var sum = 0.0
                    for t in 0..<g.k { sum += a[ao + i * g.k + t] * b[bo + t * g.n + j] }
                    c[co + i * g.n + j] = sum
                }
            }
        }
        return c
    }

    /// `da[z] = dc[z] · b[z]ᵀ`, `db[z] = a[z]ᵀ · dc[z]`, summed into a shared operand's one matrix.
    public static func matmulBackward(a: [Double], b: [Double], gradOutput dc: [Double], _ g: MatMulGeometry)
        -> (gradA: [Double], gradB: [Double])
    {
        var da = [Double](repeating: 0, count: a.count), db = [Double](repeating: 0, count: b.count)
        for z in 0..<g.batch {
            let (ao, bo, co) = matmulOffsets(z, g)
            for i in 0..<g.m {
                for t in 0..<g.k {
                    var sum = 0.0
                    for j in 0..<g.n { sum += dc[co + i * g.n + j] * b[bo + t * g.n + j] }
                    da[ao + i * g.k + t] += sum
                }
            }
            for t in 0..<g.k {
                for j in 0..<g.n {
                    var sum = 0.0
                    for i in 0..<g.m { sum += a[ao + i * g.k + t] * dc[co + i * g.n + j] }
                    db[bo + t * g.n + j] += sum
                }
            }
        }
        return (da, db)
    }

    private static func matmulOffsets(_ z: Int, _ g: MatMulGeometry) -> (Int, Int, Int) {
        let (a, b) = g.matrices(of: z)
        return (a * g.m * g.k, b * g.k * g.n, z * g.m * g.n)
    }
}
