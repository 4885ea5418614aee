import OpenCLRuntime
import TensorOps

/// The weights of a convolution's input gradient computed as a convolution of dy (`hasTransposableWindow`):
/// flipped in both spatial axes, input and output channels swapped within each group.
extension OpenCLBackend {
    /// A model's constant weight flipped and transposed once, every group side by side (inChannels ×
    /// outChannelsPerGroup·KH·KW); nil for a weight kernels may write to, which is flipped on each call.
    func flippedConstant(_ weight: Tensor, _ g: Conv2DGeometry) throws -> MatrixView? {
        guard weight.buffer.isConstant else { return nil }
        let (inRows, terms) = (g.inChannelsPerGroup, g.outChannelsPerGroup * g.kernelHeight * g.kernelWidth)
        let flipped = try weight.buffer.derivedCopy("flipped and transposed, \(g.groups) groups") {
            let copy = try DeviceBuffer(context: context, byteCount: weight.buffer.byteCount)
            for group in 0..<g.groups {
                try flipWeights(weight, group: group, g,
                                into: MatrixView(buffer: copy, offset: group * inRows * terms, rowStride: terms))
            }
            return copy
        }
        return MatrixView(buffer: flipped, rowStride: terms)
    }

    /// A model's constant weight with each group's outChannelsPerGroup × inChannelsPerGroup·KH·KW matrix transposed
    /// once, groups one after another: the A of the input gradient's product dcol = Wᵀ · dy read along its rows, as
    /// the forward product reads W, instead of down its columns. nil for a weight kernels may write to.
    func transposedConstant(_ weight: Tensor, _ g: Conv2DGeometry) throws -> MatrixView? {
        guard weight.buffer.isConstant else { return nil }
        let (rows, terms) = (g.outChannelsPerGroup, g.columnRows)
        let transposed = try weight.buffer.derivedCopy("transposed, \(g.groups) groups") {
            let copy = try DeviceBuffer(context: context, byteCount: weight.buffer.byteCount)
            for group in 0..<g.groups {
                try transpose(MatrixView(buffer: weight.buffer, offset: group * rows * terms, rowStride: terms),
                              rows: rows, columns: terms,
                              into: MatrixView(buffer: copy, offset: group * rows * terms, rowStride: rows))
            }
            return copy
        }
        return MatrixView(buffer: transposed, rowStride: rows)
    }

    /// One group's weights flipped and transposed for `backwardInputAsConvolution`, into `flipped` (inChannels of
    /// the group × outChannels·KH·KW).
    func flipWeights(_ weight: Tensor, group: Int, _ g: Conv2DGeometry, into flipped: MatrixView) throws {
        let (inRows, outRows, taps) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight * g.kernelWidth)
        // The flip's tile of TILE × TILE tap blocks in local memory: the largest that fits 16 KB.
        let flipTile = [16, 8, 4, 2].first { $0 * $0 * taps * MemoryLayout<Float>.stride <= 16 << 10 } ?? 1
        try context.launch(
            try kernel("conv2d_flipped_weight", in: "conv2d.cl",
                       defines: ["KH": g.kernelHeight, "KW": g.kernelWidth, "TILE": flipTile]),
            global: [inRows, outRows], local: [flipTile, flipTile],
            arguments: [.buffer(weight.buffer), .int(group * outRows * inRows * taps), .buffer(flipped.buffer),
                        .int(flipped.offset), .int(inRows), .int(outRows)],
            annotation: LaunchAnnotation(flops: 0, bytes: 8 * inRows * outRows * taps,
                                         detail: "\(outRows)×\(inRows)×\(taps)"))
    }
}
