import OpenCLRuntime
import Synchronization
import TensorOps

/// A matrix inside a device buffer: where it starts (in floats) and its row stride; or, as a product's B, packed
/// in panels of the tile's columns (`OpenCLBackend.packedPanels`): the row stride is then the panel width and
/// `panelStride` the floats from one panel to the next.
struct MatrixView {
    let buffer: DeviceBuffer
    var offset = 0
    let rowStride: Int
    var panelStride: Int? = nil
}

/// How matmul_tiled splits work on one device: a work-item's register tile of `rows` × `vectors`·`vectorWidth`
/// and the order work-items walk the tiles.
struct MatmulTiling: Hashable, Sendable, Codable {
    let rows: Int
    let vectorWidth: Int
    let vectors: Int
    /// Consecutive work-items step down the rows (a CPU thread then reuses the B panel from cache); otherwise
    /// along the columns (a GPU warp's loads of B then coalesce).
    let rowMajorOrder: Bool
    let local: [Int]
    /// Work-group extent along a batch of products (`DeviceTuning.defaults` says why 4 on a CPU).
    let batchLocal: Int
    /// The most terms one launch sums (longer products run as several launches, each adding to the result), so
    /// that one tile's panel of B, `termsPerLaunch` × `columns` floats, stays in a core's L2 while the next row
    /// tiles reuse it. nil: no limit.
    var termsPerLaunch: Int? = nil

    var columns: Int { vectors * vectorWidth }

    /// The first of `tilings`, or a later one where it pads `work` (multiply-adds, tiles padded out) at least 5 %
    /// less: smaller differences did not measure clearly against the noise of a shared VM.
    static func leastPadded(_ tilings: [MatmulTiling], work: (MatmulTiling) -> Int) -> MatmulTiling {
        tilings.dropFirst().reduce(tilings[0]) { 20 * work($1) <= 19 * work($0) ? $1 : $0 }
    }

    /// Multiply-adds a launch computes for an m × n result, its tiles padded out to whole ones.
    func paddedWork(m: Int, n: Int) -> Int {
        (m + rows - 1) / rows * rows * ((n + columns - 1) / columns * columns)
    }
}

/// Equal products run by one matmul launch: product z reads and writes each matrix z times its stride (in floats)
/// past the offset of its view.
struct MatmulBatch {
    let count: Int
    let aStride: Int
    let bStride: Int
    let cStride: Int

    static let single = MatmulBatch(count: 1, aStride: 0, bStride: 0, cStride: 0)

    /// The work-group extent along the batch: the largest divisor of `count` up to `preferred`, since a launch
    /// rounds its global size up to whole work-groups and the kernel has no guard for products past `count`.
    func workGroupExtent(_ preferred: Int) -> Int {
        (1...max(1, min(preferred, count))).last { count % $0 == 0 } ?? 1
    }
}

/// Device memory the convolutions lay their im2col matrices out in, grown on demand and reused by every op.
/// `withBuffer` holds a lock while the caller enqueues the commands that use it, so two threads sharing a backend
/// never interleave writes to it (the queue is in order, so what was enqueued under the lock runs in that order).
final class ScratchMemory: Sendable {
    private let buffer = Mutex<DeviceBuffer?>(nil)

    func withBuffer<R>(floats: Int, context: ComputeContext, _ body: (DeviceBuffer) throws -> R) throws -> R {
        try buffer.withLock { current in
            let bytes = floats * MemoryLayout<Float>.stride
            if current == nil || current!.byteCount < bytes {
                // Released only when the kernels already queued on the old buffer are done (OpenCL's rule).
                current = try DeviceBuffer(context: context, byteCount: bytes)
            }
            return try body(current!)
        }
    }
}

extension OpenCLBackend {
    /// c = a·b (a transposed when `transposedA`: a is then stored K×M) over m × n results and k terms, plus
    /// `bias[biasOffset + row]` when given (`bias[biasOffset + column]` with `biasPerColumn`), added to what c holds
    /// when `accumulate`, then `epilogue` (its residual laid out as c). With a `batch`, one launch runs
    /// `batch.count` such products, product z with each matrix's offset moved on by z times its stride. `engine`
    /// names the kernel (nil: the device's `tuning.productEngine`).
    func matmul(
        _ a: MatrixView, transposedA: Bool = false, _ b: MatrixView, into c: MatrixView, bias: DeviceBuffer? = nil,
        biasOffset: Int = 0, biasPerColumn: Bool = false, m: Int, n: Int, k: Int, accumulate: Bool = false,
        batch: MatmulBatch = .single, epilogue: KernelEpilogue = .none, engine: ProductEngine? = nil
    ) throws {
        let biasKind = bias == nil ? 0 : (biasPerColumn ? 2 : 1)
        if (engine ?? tuning.productEngine) == .local {
            precondition(b.panelStride == nil, "matmul_local reads B unpacked")
            return try localMatmul(a, transposedA: transposedA, b, into: c, bias: bias, biasOffset: biasOffset,
                                   biasKind: biasKind, m: m, n: n, k: k, accumulate: accumulate, batch: batch,
                                   epilogue: epilogue)
        }
        let tiling = productTiling(m: m, n: n)
        precondition(b.panelStride == nil || b.rowStride == tiling.columns, "B packed for another tile width")
        guard let chunk = tiling.termsPerLaunch, k > chunk else {
            return try launchMatmul(tiling, a, transposedA: transposedA, b, into: c, bias: bias, biasOffset: biasOffset,
                                    biasKind: biasKind, m: m, n: n, k: k, accumulate: accumulate, batch: batch,
                                    epilogue: epilogue)
        }
        for k0 in stride(from: 0, to: k, by: chunk) {
            let aPart = MatrixView(buffer: a.buffer, offset: a.offset + (transposedA ? k0 * a.rowStride : k0),
                                   rowStride: a.rowStride)
            let bPart = MatrixView(buffer: b.buffer, offset: b.offset + k0 * b.rowStride, rowStride: b.rowStride,
                                   panelStride: b.panelStride)
            // The epilogue acts on the whole sum: only the launch that adds the last terms applies it.
            try launchMatmul(tiling, aPart, transposedA: transposedA, bPart, into: c, bias: k0 == 0 ? bias : nil,
                             biasOffset: biasOffset, biasKind: k0 == 0 ? biasKind : 0, m: m, n: n, k: min(chunk, k - k0),
                             accumulate: accumulate || k0 > 0, batch: batch,
                             epilogue: k0 + chunk >= k ? epilogue : .none)
        }
    }

    /// One matmul_tiled launch of `tiling` for `matmul`.
    private func launchMatmul(
        _ tiling: MatmulTiling, _ a: MatrixView, transposedA: Bool, _ b: MatrixView, into c: MatrixView,
        bias: DeviceBuffer?, biasOffset: Int, biasKind: Int, m: Int, n: Int, k: Int, accumulate: Bool,
        batch: MatmulBatch, epilogue: KernelEpilogue
    ) throws {
        let kernel = try kernel(
            "matmul_tiled", in: "gemm.cl",
            defineList: [
                ("TM", tiling.rows), ("VW", tiling.vectorWidth), ("NV", tiling.vectors),
                ("M_MAJOR", tiling.rowMajorOrder ? 1 : 0), ("A_TRANS", transposedA ? 1 : 0),
                ("ACCUMULATE", accumulate ? 1 : 0), ("HAS_BIAS", biasKind), ("B_PACKED", b.panelStride == nil ? 0 : 1),
            ] + epilogue.defines)
        let rowTiles = (m + tiling.rows - 1) / tiling.rows, columnTiles = (n + tiling.columns - 1) / tiling.columns
        try context.launch(
            kernel, global: (tiling.rowMajorOrder ? [rowTiles, columnTiles] : [columnTiles, rowTiles]) + [batch.count],
            local: tiling.local + [batch.workGroupExtent(tiling.batchLocal)],
            arguments: [
                .buffer(a.buffer), .int(a.offset), .int(a.rowStride), .buffer(b.buffer), .int(b.offset),
                .int(b.rowStride), .int(b.buffer.byteCount / MemoryLayout<Float>.stride), .int(b.panelStride ?? 0),
                .buffer(c.buffer),
                .int(c.offset), .int(c.rowStride),
                bias.map { .buffer($0) } ?? .null, .int(biasOffset), .int(m), .int(n), .int(k),
                .int(batch.aStride), .int(batch.bStride), .int(batch.cStride),
            ] + epilogue.arguments,
            annotation: Self.productAnnotation(
                m: m, n: n, k: k, transposedA: transposedA, accumulate: accumulate, batch: batch, epilogue: epilogue,
                note: b.panelStride == nil ? "" : " B packed"))
    }

    /// The profiler's record of one product launch (matmul_tiled or matmul_local): its FLOPs and bytes, and its
    /// sizes with `note` (the B layout or the local tiling).
    static func productAnnotation(
        m: Int, n: Int, k: Int, transposedA: Bool, accumulate: Bool, batch: MatmulBatch, epilogue: KernelEpilogue,
        note: String
    ) -> LaunchAnnotation {
        LaunchAnnotation(
            flops: (2 * k + epilogue.flopsPerElement) * m * n * batch.count,
            bytes: 4 * (m * k + k * n + m * n * ((accumulate ? 2 : 1) + (epilogue.residual == nil ? 0 : 1)))
                * batch.count,
            detail: "\(batch.count > 1 ? "\(batch.count)× " : "")m \(m) n \(n) k \(k)"
                + "\(transposedA ? " Aᵀ" : "")\(note)\(accumulate ? " +=" : "")")
    }

    /// The register tile `matmul` runs an m × n product on.
    func productTiling(m: Int, n: Int) -> MatmulTiling {
        MatmulTiling.leastPadded(matmulTilings) { $0.paddedWork(m: m, n: n) }
    }

    /// A constant weight W (`rows` × `columns`, row-major) as the B of an m-row product, packed once in panels of
    /// that product's tile width (`pack_panels`): Wᵀ when `transposed` (y = x·Wᵀ), else W (dx = dy·W). nil where
    /// packing does not pay: a weight kernels may write to, or products of fewer terms than
    /// `tuning.packedProductMinimumTerms`, whose unpacked B stays in cache anyway.
    func packedPanels(of weight: DeviceBuffer, rows: Int, columns: Int, transposed: Bool, m: Int) throws -> MatrixView? {
        let (k, n) = transposed ? (columns, rows) : (rows, columns)
        guard tuning.productEngine == .registerTiled, weight.isConstant, let minimum = tuning.packedProductMinimumTerms,
              k >= minimum
        else { return nil }
        let tiling = productTiling(m: m, n: n)
        let width = tiling.columns
        let panels = (n + width - 1) / width
        let packed = try weight.derivedCopy("\(transposed ? "Wᵀ" : "W") in panels of \(width)") {
            let copy = try DeviceBuffer(context: context, byteCount: panels * k * width * MemoryLayout<Float>.stride)
            try launch(
                try kernel("pack_panels", in: "gemm.cl", defineList: [("VW", tiling.vectorWidth), ("NV", tiling.vectors)]), global: [k, panels],
                arguments: [.buffer(weight), .buffer(copy), .int(k), .int(n), .int(transposed ? 1 : columns),
                            .int(transposed ? columns : 1)],
                cost: OpCost.copy(input: k * n, output: panels * k * width), detail: "\(k)×\(n) in panels of \(width)")
            return copy
        }
        return MatrixView(buffer: packed, rowStride: width, panelStride: k * width)
    }
}
