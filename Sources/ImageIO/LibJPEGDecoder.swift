private import CJPEG
import Foundation

/// Decodes JPEG bytes with libjpeg(-turbo) to 8-bit gray or RGB, through the C helper in the CJPEG shim (which
/// keeps libjpeg's setjmp/longjmp error handling out of Swift).
enum LibJPEGDecoder {
    /// Decodes `data`; `path` only names the source in errors.
    ///
    /// Gray files stay one channel; YCbCr and RGB files become RGB. CMYK/YCCK files are refused. libjpeg's
    /// warnings (truncated or corrupt entropy data, which it would patch over with gray) are refused too: a
    /// half-decoded picture is not a model input anyone wants.
    /// - Throws: `ImageIOError` with libjpeg's message or the unsupported color space.
    static func decode(_ data: [UInt8], path: String) throws(ImageIOError) -> RasterImage {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0, channels: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBufferPointer { bytes in
            convlens_jpeg_decode(
                bytes.baseAddress, UInt(bytes.count), RasterImage.maximumDecodedBytes, &pixels, &width, &height, &channels,
                &message, message.count)
        }
        guard status == 0, let pixels else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageIOError(path: path, reason: text.isEmpty ? "not a decodable JPEG image" : text)
        }
        defer { free(pixels) }
        let count = Int(width) * Int(height) * Int(channels)
        return RasterImage(
            width: Int(width), height: Int(height), channels: Int(channels),
            pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }
}
