private import CPNG
import Foundation

/// An 8-bit image in host memory: rows top to bottom, pixels interleaved (gray, RGB or RGBA).
public struct PNGImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 (gray), 3 (RGB) or 4 (RGBA).
    public let channels: Int
    /// `height × width × channels` bytes.
    public var pixels: [UInt8]

    /// - Precondition: `channels` is 1, 3 or 4 and `pixels` has `width × height × channels` bytes.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition([1, 3, 4].contains(channels), "channels must be 1, 3 or 4, got \(channels)")
        precondition(pixels.count == width * height * channels, "\(pixels.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Reads a PNG file, converting whatever it stores (palette, 16-bit, gray+alpha …) to 8-bit gray, RGB or RGBA.
    /// - Throws: `ImageIOError` naming the file and libpng's message.
    public init(contentsOf path: String) throws(ImageIOError) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw ImageIOError(path: path, message: libpngMessage(&image))
        }
        let hasColor = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        let hasAlpha = image.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
        // Gray with alpha widens to RGBA: the simplified API has no two-channel format worth exposing.
        let channels = hasAlpha ? 4 : (hasColor ? 3 : 1)
        image.format = libpngFormat(channels: channels)
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        guard png_image_finish_read(&image, nil, &pixels, 0, nil) != 0 else {
            let message = libpngMessage(&image)
            png_image_free(&image)
            throw ImageIOError(path: path, message: message)
        }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Writes the image as a PNG file. Writes to a temporary file beside `path` first and renames it, so a
    /// failure never leaves a partial file behind.
    /// - Throws: `ImageIOError` naming the file and what went wrong.
    public func write(to path: String) throws(ImageIOError) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = libpngFormat(channels: channels)
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        var pixels = pixels
        guard png_image_write_to_file(&image, temporary, 0, &pixels, 0, nil) != 0 else {
            let message = libpngMessage(&image)
            try? FileManager.default.removeItem(atPath: temporary)
            throw ImageIOError(path: path, message: message)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw ImageIOError(path: path, message: reason)
        }
    }
}

/// A file that could not be read or written as an image.
public struct ImageIOError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public var description: String { "\(path): \(message)" }
}

/// The simplified API's format code for 8-bit gray, RGB or RGBA (its PNG_FORMAT_RGBA macro is not importable).
private func libpngFormat(channels: Int) -> png_uint_32 {
    let color = png_uint_32(PNG_FORMAT_FLAG_COLOR), alpha = png_uint_32(PNG_FORMAT_FLAG_ALPHA)
    return switch channels {
    case 1: 0
    case 3: color
    default: color | alpha
    }
}

/// libpng's error text from a `png_image` (a fixed-size C character array).
private func libpngMessage(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
        let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        return text.isEmpty ? "libpng failed without a message" : text
    }
}
