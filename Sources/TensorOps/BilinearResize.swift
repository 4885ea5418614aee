/// Resizes one channel plane (row-major, `height × width`) with bilinear interpolation, half-pixel centres and
/// edge clamping: the arithmetic of PyTorch's `F.interpolate(mode="bilinear", align_corners=False,
/// antialias=False)` on CPU, in `Float` and in the same order, so results agree to the last bit or two.
///
/// Downscaling samples without a low-pass filter (no antialiasing), as that PyTorch call does.
/// - Precondition: All sizes are positive and `plane.count == height * width`.
public func resizeBilinear(_ plane: [Float], height: Int, width: Int, toHeight: Int, toWidth: Int) -> [Float] {
    precondition(height > 0 && width > 0 && toHeight > 0 && toWidth > 0 && plane.count == height * width)
    let rows = (0..<toHeight).map { SourceTaps(destination: $0, input: height, output: toHeight) }
    let columns = (0..<toWidth).map { SourceTaps(destination: $0, input: width, output: toWidth) }
    var result = [Float](repeating: 0, count: toHeight * toWidth)
    for (y, row) in rows.enumerated() {
        let top = row.first * width
        let bottom = row.second * width
        for (x, column) in columns.enumerated() {
            let upper = column.blend(plane[top + column.first], plane[top + column.second])
            let lower = column.blend(plane[bottom + column.first], plane[bottom + column.second])
            result[y * toWidth + x] = row.blend(upper, lower)
        }
    }
    return result
}

/// The two input indices one output index reads along an axis, and their weights.
struct SourceTaps {
    let first: Int
    let second: Int
    let firstWeight: Float
    let secondWeight: Float

    init(destination: Int, input: Int, output: Int) {
        // PyTorch's area_pixel_compute_source_index: centre of output pixel d is input coordinate
        // (d + 0.5) * input / output - 0.5, clamped at 0 on the left; the right edge repeats the last pixel.
        let scale = Float(input) / Float(output)
        let source = max((Float(destination) + 0.5) * scale - 0.5, 0)
        first = min(Int(source), input - 1)
        second = first + (first < input - 1 ? 1 : 0)
        secondWeight = source - Float(first)
        firstWeight = 1 - secondWeight
    }

    /// `first`'s value weighed with `second`'s (PyTorch multiplies and adds in this order).
    func blend(_ first: Float, _ second: Float) -> Float { firstWeight * first + secondWeight * second }
}
