import OpenCLRuntime
import TensorOps

/// One Winograd F(tile×tile, 3×3) convolution (Kernels/winograd.cl), F(2×2) or F(4×4), over `planes`, each target
/// value the 3×3 window at (row − padTop, column − padLeft) of the source, stride 1. The planes' sizes read as its
/// own (`problem.batch`).
@dynamicMemberLookup
struct WinogradConvolution {
    let planes: ConvolutionPlanes
    let padTop: Int
    let padLeft: Int
    /// The side of an output tile: 2 or 4.
    let tile: Int

    init(planes: ConvolutionPlanes, padTop: Int, padLeft: Int, tile: Int = 2) {
        precondition(tile == 2 || tile == 4, "Winograd F(\(tile)×\(tile), 3×3) is not implemented")
        (self.planes, self.padTop, self.padLeft, self.tile) = (planes, padTop, padLeft, tile)
    }

    subscript<Value>(dynamicMember size: KeyPath<ConvolutionPlanes, Value>) -> Value { planes[keyPath: size] }

    /// The side of the input patch an output tile comes from, and the transformed positions per tile (the planes
    /// of U, V and M, one batched product each).
    var alpha: Int { tile + 2 }
    var positions: Int { alpha * alpha }

    /// The output tiles per image, down and across.
    var tileRows: Int { (planes.targetHeight + tile - 1) / tile }
    var tileColumns: Int { (planes.targetWidth + tile - 1) / tile }
    var tilesPerImage: Int { tileRows * tileColumns }

    /// winograd.cl's kernel for `stage` (weight, input or output) of this variant.
    func kernelName(_ stage: String) -> String {
        "winograd\(tile == 2 ? "" : "4")_\(stage)_transform"
    }

    /// The arithmetic of one filter's weight transform, and per tile and channel of the input and output
    /// transforms (the bias added), for the launches' cost.
    var transformFlops: (weight: Int, input: Int, output: Int) { tile == 2 ? (28, 32, 24) : (126, 228, 146) }

    /// The global size of the input or output transform over `channels` and a chunk of `rows` tile rows. F(2×2)'s
    /// work-items take a channel's whole tile row (8 tiles at a time in vectors, for CPUs); F(4×4)'s one tile each,
    /// tiles along dimension 0, so neighbouring work-items touch neighbouring floats of V and M.
    func transformGlobal(channels: Int, rows: Int) -> [Int] {
        tile == 2 ? [channels, rows] : [rows * tileColumns, channels]
    }

    /// The forward pass of `g`: x to y.
    static func forward(_ g: Conv2DGeometry, tile: Int = 2) -> WinogradConvolution {
        WinogradConvolution(
            planes: .forward(g), padTop: g.parameters.padding.top, padLeft: g.parameters.padding.left, tile: tile)
    }

    /// The input gradient of `g`: dy to dx, a convolution with the flipped filters and padding 2 − p.
    static func backwardInput(_ g: Conv2DGeometry, tile: Int = 2) -> WinogradConvolution {
        WinogradConvolution(
            planes: .backwardInput(g), padTop: 2 - g.parameters.padding.top, padLeft: 2 - g.parameters.padding.left,
            tile: tile)
    }
}

extension OpenCLBackend {
    /// Runs `problem`: the filters (stored COUT × CIN × 3 × 3 in `weight`, flipped and transposed when
    /// `flipTransposed`) go to U, then per chunk of tile rows the source goes to V, the 16 (F(2×2)) or 36 (F(4×4))
    /// products M = U·V run as one batched matmul, and M goes to the target (plus `bias`). `chunkFloats` bounds V
    /// and M together (tests make it small to run many chunks; nil takes the device's `winogradChunkFloats`).
    func winogradConvolution(
        _ problem: WinogradConvolution, source: DeviceBuffer, weight: DeviceBuffer, flipTransposed: Bool,
        bias: DeviceBuffer?, target: DeviceBuffer, chunkFloats: Int? = nil
    ) throws {
        let chunkFloats = chunkFloats ?? tuning.winogradChunkFloats
        let (s, r, positions, tileArea) = (
            problem.sourceChannels, problem.targetChannels, problem.positions, problem.tile * problem.tile)
        let flops = problem.transformFlops
        // Tile rows (across images: row q is image q / TH's tile row q % TH) go through in chunks whose V and M fit
        // the last-level cache, so each is read back from there by the product and the output transform.
        let totalRows = problem.batch * problem.tileRows
        let chunkRows = max(1, min(totalRows, chunkFloats / (positions * (s + r) * problem.tileColumns)))
        let columnTile = matmulTiling.columns
        let ld = (chunkRows * problem.tileColumns + columnTile - 1) / columnTile * columnTile
        let (uPlane, vPlane, mPlane) = (Self.planeStride(r * s), Self.planeStride(s * ld), Self.planeStride(r * ld))
        let (uFloats, vFloats, mFloats) = (positions * uPlane, positions * vPlane, positions * mPlane)
        let sourcePlane = problem.sourceHeight * problem.sourceWidth
        let targetPlane = problem.targetHeight * problem.targetWidth
        let defines: KeyValuePairs<String, Int> = [
            "PT": problem.padTop, "PL": problem.padLeft, "FLIP_TRANSPOSE": flipTransposed ? 1 : 0,
            "HAS_BIAS": bias == nil ? 0 : 1,
        ]
        try scratch.withBuffer(floats: uFloats + vFloats + mFloats, context: context) { buffer in
            // U[e] holds the filters in storage order: COUT × CIN, which is R × S forward and S × R (transposed)
            // for the input gradient; a model's constant weight keeps its U from the first call.
            let transform = { (u: DeviceBuffer) in
                try self.launch(
                    try self.kernel(problem.kernelName("weight"), in: "winograd.cl", defines: defines),
                    global: [r * s], arguments: [.buffer(weight), .int(0), .buffer(u), .int(r * s), .int(uPlane)],
                    cost: OpCost(flops: flops.weight * r * s, bytes: 4 * (9 + positions) * r * s), detail: "\(r)×\(s)")
            }
            var u = buffer
            if weight.isConstant {
                let variant = problem.tile == 2 ? "" : " F(\(problem.tile)×\(problem.tile))"
                u = try weight.derivedCopy("Winograd\(variant) U\(flipTransposed ? ", flipped and transposed" : "")") {
                    let copy = try DeviceBuffer(context: context, byteCount: uFloats * MemoryLayout<Float>.stride)
                    try transform(copy)
                    return copy
                }
            } else {
                try transform(buffer)
            }
            let filters = MatrixView(buffer: u, rowStride: flipTransposed ? r : s)
            for firstRow in stride(from: 0, to: totalRows, by: chunkRows) {
                let rows = min(chunkRows, totalRows - firstRow), n = rows * problem.tileColumns
                try launch(
                    try kernel(problem.kernelName("input"), in: "winograd.cl", defines: defines),
                    global: problem.transformGlobal(channels: s, rows: rows),
                    arguments: [.buffer(source), .int(s * sourcePlane), .buffer(buffer), .int(uFloats), .int(vPlane),
                                .int(ld), .int(firstRow), .int(rows), .int(s), .int(problem.sourceHeight),
                                .int(problem.sourceWidth), .int(problem.tileRows), .int(problem.tileColumns)],
                    cost: OpCost(flops: flops.input * s * n, bytes: 4 * (s * n * tileArea + positions * s * n)),
                    detail: "\(s)×\(problem.sourceHeight)×\(problem.sourceWidth), \(rows) tile rows")
                try matmul(
                    filters, transposedA: flipTransposed, MatrixView(buffer: buffer, offset: uFloats, rowStride: ld),
                    into: MatrixView(buffer: buffer, offset: uFloats + vFloats, rowStride: ld), m: r, n: n, k: s,
                    batch: MatmulBatch(count: positions, aStride: uPlane, bStride: vPlane, cStride: mPlane))
                try launch(
                    try kernel(problem.kernelName("output"), in: "winograd.cl", defines: defines),
                    global: problem.transformGlobal(channels: r, rows: rows),
                    arguments: [.buffer(buffer), .int(uFloats + vFloats), .int(mPlane), .int(ld), .buffer(target),
                                .int(r * targetPlane), bias.map { .buffer($0) } ?? .null, .int(firstRow), .int(rows),
                                .int(r), .int(problem.targetHeight), .int(problem.targetWidth),
                                .int(problem.tileRows), .int(problem.tileColumns)],
                    cost: OpCost(flops: flops.output * r * n, bytes: 4 * (positions * r * n + r * n * tileArea)),
                    detail: "\(r)×\(problem.targetHeight)×\(problem.targetWidth), \(rows) tile rows")
            }
        }
    }

    /// The distance between two of the 16 or 36 planes of U, V or M holding `floats`: rounded up to 4 KB, plus one
    /// cache line. The transforms read or write all the planes at once; 4 KB-aligned planes would all map to the same
    /// L1 sets (seen: the weight transform of a 512×512 layer took 8 ms, 8× its memory time).
    private static func planeStride(_ floats: Int) -> Int {
        (floats + 1023) / 1024 * 1024 + 16
    }
}
