/// Maps values in [0, 1] to colours, for feature maps and heat maps.
public enum Colormap: String, Sendable, CaseIterable {
    case gray, viridis, inferno, turbo, jet
    /// Blue (negative) – white (zero) – red (positive), for signed values mapped to [0, 1] with 0.5 at zero.
    case diverging

    /// Anchor colours at evenly spaced positions, interpolated linearly (matplotlib's maps sampled at 9 points;
    /// close enough for reading pictures).
    private var anchors: [(UInt8, UInt8, UInt8)] {
        switch self {
        case .gray: [(0, 0, 0), (255, 255, 255)]
        case .viridis:
            [(68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141), (39, 173, 129),
             (92, 200, 99), (170, 220, 50), (253, 231, 37)]
        case .inferno:
            [(0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85), (227, 89, 51),
             (249, 140, 10), (249, 201, 50), (252, 255, 164)]
        case .turbo:
            [(48, 18, 59), (70, 107, 227), (41, 187, 236), (49, 242, 153), (162, 252, 60), (237, 208, 58),
             (251, 128, 34), (208, 47, 5), (122, 4, 3)]
        case .jet:
            [(0, 0, 128), (0, 0, 255), (0, 128, 255), (0, 255, 255), (128, 255, 128), (255, 255, 0),
             (255, 128, 0), (255, 0, 0), (128, 0, 0)]
        case .diverging: [(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)]
        }
    }

    /// The colour of `value` (clamped to [0, 1]) as RGB bytes.
    public func color(_ value: Float) -> (UInt8, UInt8, UInt8) {
        let anchors = anchors
        let position = Float(anchors.count - 1) * min(max(value.isNaN ? 0 : value, 0), 1)
        let index = min(Int(position), anchors.count - 2)
        let t = position - Float(index)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Float(a) + (Float(b) - Float(a)) * t).rounded()) }
        let (low, high) = (anchors[index], anchors[index + 1])
        return (mix(low.0, high.0), mix(low.1, high.1), mix(low.2, high.2))
    }

    /// A `width`×`height` plane of values in [0, 1] as an image (gray stays one channel).
    public func image(values: [Float], width: Int, height: Int) -> RasterImage {
        if self == .gray {
            return RasterImage(width: width, height: height, channels: 1,
                               pixels: values.map { UInt8((min(max($0.isNaN ? 0 : $0, 0), 1) * 255).rounded()) })
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(values.count * 3)
        for value in values {
            let (r, g, b) = color(value)
            pixels += [r, g, b]
        }
        return RasterImage(width: width, height: height, channels: 3, pixels: pixels)
    }
}
