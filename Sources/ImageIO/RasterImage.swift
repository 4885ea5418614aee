/// An 8-bit image in host memory: rows top to bottom, pixels interleaved (gray, RGB or RGBA).
///
/// Read one with ``init(contentsOf:)`` (PNG or JPEG, chosen by the file's first bytes), ``init(pngFile:)`` or
/// ``init(jpegFile:)``; write one with ``writePNG(to:)``. ``ImagePreprocessing`` turns a batch into an NCHW tensor.
public struct RasterImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 (gray), 3 (RGB) or 4 (RGBA).
    public let channels: Int
    /// `height × width × channels` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// - Precondition: `channels` is 1, 3 or 4, the sizes are not negative and `pixels` has
    ///   `width × height × channels` bytes.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition([1, 3, 4].contains(channels), "channels must be 1, 3 or 4, got \(channels)")
        precondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        precondition(
            pixels.count == width * height * channels, "\(pixels.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}
