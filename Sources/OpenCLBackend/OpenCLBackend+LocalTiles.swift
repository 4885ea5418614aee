import OpenCLRuntime
import TensorOps

/// The GPU-shaped kernels on local_tile.h's work-group tiles: matmul_local (gemm_local.cl) and the convolutions
/// of conv_local.cl, each with the `LocalTiling` tuned for its shape class.
extension OpenCLBackend {
    /// `matmul` on matmul_local: one launch, whatever k (the work-group's block stays in local memory, so there is
    /// no panel of B to keep in cache).
    func localMatmul(
        _ a: MatrixView, transposedA: Bool, _ b: MatrixView, into c: MatrixView, bias: DeviceBuffer?, biasOffset: Int,
        biasKind: Int, m: Int, n: Int, k: Int, accumulate: Bool, batch: MatmulBatch, epilogue: KernelEpilogue
    ) throws {
        let tiling = tuning.localTiling(for: LocalShapeClass(.gemm, m: m, n: n, k: k))
        let kernel = try kernel(
            "matmul_local", in: "gemm_local.cl",
            defineList: tiling.defines + [
                ("A_TRANS", transposedA ? 1 : 0), ("ACCUMULATE", accumulate ? 1 : 0), ("HAS_BIAS", biasKind),
            ] + epilogue.defines)
        let shape = tiling.launchShape(m: m, n: n, layers: batch.count)
        try context.launch(
            kernel, global: shape.global, local: shape.local,
            arguments: [
                .buffer(a.buffer), .int(a.offset), .int(a.rowStride), .buffer(b.buffer), .int(b.offset),
                .int(b.rowStride), .buffer(c.buffer), .int(c.offset), .int(c.rowStride),
                bias.map { .buffer($0) } ?? .null, .int(biasOffset), .int(m), .int(n), .int(k),
                .int(batch.aStride), .int(batch.bStride), .int(batch.cStride),
            ] + epilogue.arguments,
            annotation: Self.productAnnotation(
                m: m, n: n, k: k, transposedA: transposedA, accumulate: accumulate, batch: batch, epilogue: epilogue,
                note: ", \(tiling)"))
    }

    /// y = W ⊛ x on conv2d_local_forward: every image and position of a group as the columns of one product.
    func localImplicitGemmForward(input: Tensor, weight: Tensor, bias: Tensor?, output: Tensor, _ g: Conv2DGeometry,
                                  epilogue: KernelEpilogue) throws {
        let (m, n, k) = (g.outChannelsPerGroup, g.batch * g.outHeight * g.outWidth, g.columnRows)
        let tiling = tuning.localTiling(for: LocalShapeClass(.forward, m: m, n: n, k: k))
        let shape = tiling.launchShape(m: m, n: n, layers: g.groups)
        let cost = g.forwardCost(hasBias: bias != nil)
        try context.launch(
            try localConvKernel("conv2d_local_forward", pass: 0, g, tiling: tiling, hasBias: bias != nil,
                                epilogue: epilogue),
            global: shape.global, local: shape.local,
            arguments: [.buffer(input.buffer), .buffer(weight.buffer), bias.map { .buffer($0.buffer) } ?? .null,
                        .buffer(output.buffer)] + localConvSizes(g) + epilogue.arguments,
            annotation: LaunchAnnotation(flops: cost.flops, bytes: cost.bytes, detail: "\(g), \(tiling)"))
    }

    /// dx = Wᵀ ⊛ dy on conv2d_local_backward_input, any stride, dilation and padding: each input position gathers
    /// the outputs whose window taps it.
    func localImplicitGemmBackwardInput(gradOutput: Tensor, weight: Tensor, gradInput: Tensor, _ g: Conv2DGeometry)
        throws
    {
        let (m, n, k) = (g.inChannelsPerGroup, g.batch * g.inHeight * g.inWidth,
                         g.outChannelsPerGroup * g.kernelHeight * g.kernelWidth)
        let tiling = tuning.localTiling(for: LocalShapeClass(.backwardInput, m: m, n: n, k: k))
        let shape = tiling.launchShape(m: m, n: n, layers: g.groups)
        let cost = g.backwardInputCost
        try context.launch(
            try localConvKernel("conv2d_local_backward_input", pass: 1, g, tiling: tiling),
            global: shape.global, local: shape.local,
            arguments: [.buffer(gradOutput.buffer), .buffer(weight.buffer), .buffer(gradInput.buffer)] + localConvSizes(g),
            annotation: LaunchAnnotation(flops: cost.flops, bytes: cost.bytes, detail: "\(g), \(tiling)"))
    }

    /// dW = dy ⊛ x on conv2d_local_backward_weight, the sum over images and positions in `splitK` chunks; with more
    /// than one, each writes its partial dW to scratch memory and split_k_sum adds them in order.
    func splitKBackwardWeight(gradOutput: Tensor, input: Tensor, gradWeight: Tensor, _ g: Conv2DGeometry) throws {
        let (m, n, k) = (g.outChannelsPerGroup, g.columnRows, g.batch * g.outHeight * g.outWidth)
        let (splits, chunk) = splitK(m: m, n: n, k: k, groups: g.groups)
        let tiling = tuning.localTiling(for: LocalShapeClass(.backwardWeight, m: m, n: n, k: k))
        let shape = tiling.launchShape(m: m, n: n, layers: g.groups * splits)
        let cost = g.backwardWeightCost(hasBias: false)
        let product = try localConvKernel("conv2d_local_backward_weight", pass: 2, g, tiling: tiling)
        let detail = "\(g), \(tiling), \(splits) split\(splits == 1 ? "" : "s") of \(chunk)"
        let run = { (target: DeviceBuffer) throws -> Void in
            _ = try self.context.launch(
                product, global: shape.global, local: shape.local,
                arguments: [.buffer(gradOutput.buffer), .buffer(input.buffer), .buffer(target)] + self.localConvSizes(g)
                    + [.int(splits), .int(chunk)],
                annotation: LaunchAnnotation(flops: cost.flops, bytes: cost.bytes, detail: detail))
        }
        guard splits > 1 else { return try run(gradWeight.buffer) }
        let count = g.weight.count
        try scratch.withBuffer(floats: splits * count, context: context) { partial in
            try run(partial)
            try launch(
                try kernel("split_k_sum", in: "conv_local.cl", defineList: localConvDefines(g, pass: 2)),
                global: [count], arguments: [.buffer(partial), .buffer(gradWeight.buffer), .int(count), .int(splits)],
                cost: OpCost(flops: splits * count, bytes: 4 * (splits + 1) * count), detail: "\(splits) × \(count)")
        }
    }

    /// How the weight gradient's k terms split: into as many chunks as bring its work-groups to
    /// `splitKGroupsPerComputeUnit` per compute unit, each of at least `splitKMinimumSteps` steps of the tiling's
    /// KWG terms (rounded to whole steps). Returns the splits and the terms per chunk.
    func splitK(m: Int, n: Int, k: Int, groups: Int) -> (splits: Int, chunk: Int) {
        let tiling = tuning.localTiling(for: LocalShapeClass(.backwardWeight, m: m, n: n, k: k))
        let blocks = (m + tiling.mwg - 1) / tiling.mwg * ((n + tiling.nwg - 1) / tiling.nwg) * groups
        let wanted = (tuning.splitKGroupsPerComputeUnit * context.device.computeUnits + blocks - 1) / blocks
        let steps = (k + tiling.kwg - 1) / tiling.kwg
        let splits = max(1, min(wanted, steps / max(1, tuning.splitKMinimumSteps)))
        let chunk = (steps + splits - 1) / splits * tiling.kwg
        return ((k + chunk - 1) / chunk, chunk)
    }

    /// N, C, H, W, COUT, OH, OW.
    private func localConvSizes(_ g: Conv2DGeometry) -> [KernelArgument] {
        [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.outHeight, g.outWidth].map { .int($0) }
    }

    private func localConvDefines(_ g: Conv2DGeometry, pass: Int) -> [(String, Int)] {
        let p = g.parameters
        return [
            ("KH", g.kernelHeight), ("KW", g.kernelWidth), ("SH", p.stride.height), ("SW", p.stride.width),
            ("DH", p.dilation.height), ("DW", p.dilation.width), ("PT", p.padding.top), ("PL", p.padding.left),
            ("GROUPS", p.groups), ("PASS", pass),
        ]
    }

    private func localConvKernel(_ name: String, pass: Int, _ g: Conv2DGeometry, tiling: LocalTiling,
                                 hasBias: Bool = false, epilogue: KernelEpilogue = .none) throws -> Kernel {
        try kernel(name, in: "conv_local.cl",
                   defineList: localConvDefines(g, pass: pass) + tiling.defines + [("HAS_BIAS", hasBias ? 1 : 0)]
                       + epilogue.defines)
    }
}
