extension RasterImage {
    /// The image as `channels` planes of `Float` in 0…255, each `height × width` row-major, converted the way a
    /// model expects: RGB(A) to gray by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, kept in `Float`, not
    /// rounded to 8 bits), gray to RGB by replication, alpha dropped.
    /// - Precondition: `channels` is 1 or 3.
    func planes(channels: Int) -> [[Float]] {
        precondition(channels == 1 || channels == 3, "models take 1 or 3 channels, not \(channels)")
        let stride = self.channels
        let levels = pixels.map(Float.init)
        func plane(_ value: (Int) -> Float) -> [Float] { (0..<(width * height)).map { value($0 * stride) } }
        switch (stride, channels) {
        case (1, _):
            return Array(repeating: levels, count: channels)
        case (_, 1):
            return [plane { 0.299 * levels[$0] + 0.587 * levels[$0 + 1] + 0.114 * levels[$0 + 2] }]
        default:
            return (0..<3).map { channel in plane { levels[$0 + channel] } }
        }
    }
}
