import TensorOps

/// What the im2col and matrix-product algorithms (`OpenCLBackend+Conv2D`) read of a convolution's geometry.
extension Conv2DGeometry {
    /// Rows of the im2col matrix: the terms of one output value, CI/groups · KH · KW.
    var columnRows: Int { inChannelsPerGroup * kernelHeight * kernelWidth }

    /// One image and group's im2col matrix written (or folded back) and its input planes read, no arithmetic
    /// (col2im's additions are counted as none: they are at most KH·KW per input value).
    var loweringCost: OpCost {
        OpCost(flops: 0, bytes: 4 * (columnRows * outHeight * outWidth + inChannelsPerGroup * inHeight * inWidth))
    }

    /// A pointwise convolution's products batched over the images: the weights shared, the operand and the result
    /// an image apart (x and y forward, dy and dx backward).
    func pointwiseImages(backward: Bool) -> MatmulBatch {
        let (x, y) = (inChannels * inHeight * inWidth, outChannels * outHeight * outWidth)
        return MatmulBatch(count: batch, aStride: 0, bStride: backward ? y : x, cStride: backward ? x : y)
    }

    /// Every (image, group) pair, images outermost.
    var imagesAndGroups: [(Int, Int)] { (0..<batch).flatMap { image in (0..<groups).map { (image, $0) } } }
}
