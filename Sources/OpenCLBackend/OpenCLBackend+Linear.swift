import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func linearForward(_ checked: Checked<LinearGeometry>, input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor)
        throws
    {
        let g = checked.geometry
        if g.batch >= tuning.linearProductMinimumRows {
            // Many rows (a per-pixel MLP on channels-last activations, a transformer's tokens): y = x · Wᵀ on
            // matmul_tiled's register tiles, against the weights transposed: once for a model's constant weight,
            // into scratch memory on each call otherwise.
            let product = { (weights: MatrixView) in
                try self.matmul(MatrixView(buffer: input.buffer, rowStride: g.inFeatures), weights,
                                into: MatrixView(buffer: output.buffer, rowStride: g.outFeatures), bias: bias?.buffer,
                                biasPerColumn: true, m: g.batch, n: g.outFeatures, k: g.inFeatures)
            }
            let transpose = { (into: DeviceBuffer) in
                try self.transpose(MatrixView(buffer: weight.buffer, rowStride: g.inFeatures), rows: g.outFeatures,
                                   columns: g.inFeatures, into: MatrixView(buffer: into, rowStride: g.outFeatures))
            }
            if let packed = try packedPanels(of: weight.buffer, rows: g.outFeatures, columns: g.inFeatures,
                                             transposed: true, m: g.batch) {
                return try product(packed)
            }
            if weight.buffer.isConstant {
                let transposed = try weight.buffer.derivedCopy("transposed \(g.outFeatures)×\(g.inFeatures)") {
                    let copy = try DeviceBuffer(context: context, byteCount: weight.buffer.byteCount)
                    try transpose(copy)
                    return copy
                }
                return try product(MatrixView(buffer: transposed, rowStride: g.outFeatures))
            }
            return try scratch.withBuffer(floats: g.inFeatures * g.outFeatures, context: context) { transposed in
                try transpose(transposed)
                try product(MatrixView(buffer: transposed, rowStride: g.outFeatures))
            }
        }
        try launch(
            try kernel("linear_forward", in: "linear.cl",
                       defines: ["HAS_BIAS": bias == nil ? 0 : 1, "VW": min(matmulTiling.vectorWidth, 16)]),
            global: [g.outFeatures, g.batch],
            arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                        .buffer(output.buffer)] + linearSizes(g),
            cost: g.forwardCost(hasBias: bias != nil))
    }

    /// dx = dy · W: a matrix product (m batch, n IN, k OUT) over W's rows as they are stored, or packed once
    /// (`packedPanels`) for a constant weight of many outputs.
    public func linearBackwardInput(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, weight: Tensor, gradInput: Tensor
    ) throws {
        let g = checked.geometry
        try matmul(
            MatrixView(buffer: gradOutput.buffer, rowStride: g.outFeatures),
            try packedPanels(of: weight.buffer, rows: g.outFeatures, columns: g.inFeatures, transposed: false,
                             m: g.batch) ?? MatrixView(buffer: weight.buffer, rowStride: g.inFeatures),
            into: MatrixView(buffer: gradInput.buffer, rowStride: g.inFeatures),
            m: g.batch, n: g.inFeatures, k: g.outFeatures)
    }

    /// dW = dyᵀ · x: a matrix product (m OUT, n IN, k batch) reading dy transposed.
    public func linearBackwardWeight(
        _ checked: Checked<LinearGeometry>, gradOutput: Tensor, input: Tensor, gradWeight: Tensor, gradBias: Tensor?
    ) throws {
        let g = checked.geometry
        try matmul(
            MatrixView(buffer: gradOutput.buffer, rowStride: g.outFeatures), transposedA: true,
            MatrixView(buffer: input.buffer, rowStride: g.inFeatures),
            into: MatrixView(buffer: gradWeight.buffer, rowStride: g.inFeatures),
            m: g.outFeatures, n: g.inFeatures, k: g.batch)
        if let gradBias {
            try launch(
                try kernel("linear_backward_bias", in: "linear.cl"), global: [g.outFeatures],
                arguments: [.buffer(gradOutput.buffer), .buffer(gradBias.buffer), .int(g.batch), .int(g.outFeatures)],
                cost: OpCost(flops: g.output.count, bytes: OpCost.traffic(g.output.count, g.outFeatures)))
        }
    }

    /// N, IN, OUT.
    private func linearSizes(_ g: LinearGeometry) -> [KernelArgument] {
        [.int(g.batch), .int(g.inFeatures), .int(g.outFeatures)]
    }
}

extension OpenCLBackend {
    /// One batched launch of the tiled product; a shared operand keeps stride 0. A partial broadcast runs one launch
    /// per product, each reading the matrices `matrices(of:)` names.
    public func matmulForward(_ checked: Checked<MatMulGeometry>, a: Tensor, b: Tensor, output: Tensor) throws {
        let g = checked.geometry
        guard g.isUniform else {
            for z in 0..<g.batch {
                let (ai, bi) = g.matrices(of: z)
                try matmul(MatrixView(buffer: a.buffer, offset: ai * g.m * g.k, rowStride: g.k),
                           MatrixView(buffer: b.buffer, offset: bi * g.k * g.n, rowStride: g.n),
                           into: MatrixView(buffer: output.buffer, offset: z * g.m * g.n, rowStride: g.n),
                           m: g.m, n: g.n, k: g.k)
            }
            return
        }
        try matmul(
            MatrixView(buffer: a.buffer, rowStride: g.k), MatrixView(buffer: b.buffer, rowStride: g.n),
            into: MatrixView(buffer: output.buffer, rowStride: g.n), m: g.m, n: g.n, k: g.k,
            batch: MatmulBatch(count: g.batch, aStride: g.aIsBatched ? g.m * g.k : 0,
                               bStride: g.bIsBatched ? g.k * g.n : 0, cStride: g.m * g.n))
    }

    /// dA = dC·Bᵀ against a transposed copy of b; dB = Aᵀ·dC reading a transposed in place. A shared operand's
    /// gradient sums over the batch: dB as one product over the stacked rows of a and dC, dA one launch per
    /// product, each adding to the last.
    public func matmulBackward(
        _ checked: Checked<MatMulGeometry>, a: Tensor, b: Tensor, gradOutput: Tensor, gradA: Tensor?, gradB: Tensor?
    ) throws {
        let g = checked.geometry
        let dc = MatrixView(buffer: gradOutput.buffer, rowStride: g.n)
        if let gradA {
            var swapped = Array(0..<g.b.rank)
            swapped.swapAt(g.b.rank - 1, g.b.rank - 2)
            let bTransposed = try makeTensor(try PermuteGeometry(input: g.b, permutation: swapped).output)
            try permute(input: b, output: bTransposed, permutation: swapped)
            let bt = MatrixView(buffer: bTransposed.buffer, rowStride: g.k)
            if !g.isUniform {
                // Each product adds into the matrix of a it read; the first to reach a matrix overwrites it.
                var written = Set<Int>()
                for z in 0..<g.batch {
                    let (ai, bi) = g.matrices(of: z)
                    try matmul(MatrixView(buffer: gradOutput.buffer, offset: z * g.m * g.n, rowStride: g.n),
                               MatrixView(buffer: bTransposed.buffer, offset: bi * g.n * g.k, rowStride: g.k),
                               into: MatrixView(buffer: gradA.buffer, offset: ai * g.m * g.k, rowStride: g.k),
                               m: g.m, n: g.k, k: g.n, accumulate: !written.insert(ai).inserted)
                }
            } else if g.aIsBatched || g.batch == 1 {
                try matmul(dc, bt, into: MatrixView(buffer: gradA.buffer, rowStride: g.k), m: g.m, n: g.k, k: g.n,
                           batch: MatmulBatch(count: g.batch, aStride: g.m * g.n, bStride: g.bIsBatched ? g.n * g.k : 0,
                                              cStride: g.m * g.k))
            } else {
                for z in 0..<g.batch {
                    try matmul(
                        MatrixView(buffer: gradOutput.buffer, offset: z * g.m * g.n, rowStride: g.n),
                        MatrixView(buffer: bTransposed.buffer, offset: z * g.n * g.k, rowStride: g.k),
                        into: MatrixView(buffer: gradA.buffer, rowStride: g.k), m: g.m, n: g.k, k: g.n,
                        accumulate: z > 0)
                }
            }
        }
        if let gradB {
            let at = MatrixView(buffer: a.buffer, rowStride: g.k), into = MatrixView(buffer: gradB.buffer, rowStride: g.n)
            if !g.isUniform {
                var written = Set<Int>()
                for z in 0..<g.batch {
                    let (ai, bi) = g.matrices(of: z)
                    try matmul(MatrixView(buffer: a.buffer, offset: ai * g.m * g.k, rowStride: g.k), transposedA: true,
                               MatrixView(buffer: gradOutput.buffer, offset: z * g.m * g.n, rowStride: g.n),
                               into: MatrixView(buffer: gradB.buffer, offset: bi * g.k * g.n, rowStride: g.n),
                               m: g.k, n: g.n, k: g.m, accumulate: !written.insert(bi).inserted)
                }
            } else if g.bIsBatched || g.batch == 1 {
                try matmul(at, transposedA: true, dc, into: into, m: g.k, n: g.n, k: g.m,
                           batch: MatmulBatch(count: g.batch, aStride: g.aIsBatched ? g.m * g.k : 0,
                                              bStride: g.m * g.n, cStride: g.k * g.n))
            } else {
                try matmul(at, transposedA: true, dc, into: into, m: g.k, n: g.n, k: g.batch * g.m)
            }
        }
    }
}
