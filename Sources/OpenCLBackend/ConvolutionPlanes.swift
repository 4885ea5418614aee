import TensorOps

/// The planes a convolution-shaped pass maps, per image: `sourceChannels` planes of `sourceHeight` × `sourceWidth`
/// to `targetChannels` planes of `targetHeight` × `targetWidth`. The forward pass maps x to y; a stride-1 input
/// gradient, computed as a convolution of dy with the flipped weights, maps dy to dx. Winograd and the implicit
/// product describe their problems with it.
struct ConvolutionPlanes {
    let batch: Int
    let sourceChannels: Int
    let sourceHeight: Int
    let sourceWidth: Int
    let targetChannels: Int
    let targetHeight: Int
    let targetWidth: Int

    /// The forward pass of `g`: x to y.
    static func forward(_ g: Conv2DGeometry) -> ConvolutionPlanes {
        ConvolutionPlanes(
            batch: g.batch, sourceChannels: g.inChannels, sourceHeight: g.inHeight, sourceWidth: g.inWidth,
            targetChannels: g.outChannels, targetHeight: g.outHeight, targetWidth: g.outWidth)
    }

    /// The input gradient of `g` as a convolution: dy to dx.
    static func backwardInput(_ g: Conv2DGeometry) -> ConvolutionPlanes {
        ConvolutionPlanes(
            batch: g.batch, sourceChannels: g.outChannels, sourceHeight: g.outHeight, sourceWidth: g.outWidth,
            targetChannels: g.inChannels, targetHeight: g.inHeight, targetWidth: g.inWidth)
    }
}
