private import CPNG

extension RasterImage {
    /// Reads a PNG file, converting whatever it stores (palette, 16-bit, gray+alpha …) to 8-bit gray, RGB or RGBA.
    /// - Parameter path: The file to read.
    /// - Throws: `ImageIOError` naming the file and the system's or libpng's message.
    public init(pngFile path: String) throws(ImageIOError) {
        try self.init(pngData: readFileBytes(path), path: path)
    }

    /// Decodes PNG bytes; `path` only names the source in errors.
    init(pngData data: [UInt8], path: String) throws(ImageIOError) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        // libpng keeps the data pointer between begin and finish, so both calls sit inside one borrow.
        let decoded = data.withUnsafeBytes { raw -> Result<RasterImage, ImageIOError> in
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                return .failure(ImageIOError(path: path, reason: libpngMessage(&image)))
            }
            let hasColor = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
            let hasAlpha = image.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
            // Gray with alpha widens to RGBA: the simplified API has no two-channel format worth exposing.
            let channels = hasAlpha ? 4 : (hasColor ? 3 : 1)
            image.format = libpngFormat(channels: channels)
            let width = Int(image.width)
            let height = Int(image.height)
            var pixels = [UInt8](repeating: 0, count: width * height * channels)
            guard png_image_finish_read(&image, nil, &pixels, 0, nil) != 0 else {
                let reason = libpngMessage(&image)
                png_image_free(&image)
                return .failure(ImageIOError(path: path, reason: reason))
            }
            return .success(RasterImage(width: width, height: height, channels: channels, pixels: pixels))
        }
        self = try decoded.get()
    }

    /// Writes the image as an 8-bit PNG file (gray, RGB or RGBA as ``channels`` says).
    ///
    /// Encodes in memory, writes a temporary file beside `path` and renames it, so a failure never leaves a
    /// partial file behind.
    /// - Parameter path: The file to create or replace.
    /// - Throws: `ImageIOError` naming the file and what went wrong.
    public func writePNG(to path: String) throws(ImageIOError) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = libpngFormat(channels: channels)
        // First call sizes the encoding, the second fills it.
        var size = 0
        guard png_image_write_to_memory(&image, nil, &size, 0, pixels, 0, nil) != 0 else {
            throw ImageIOError(path: path, reason: libpngMessage(&image))
        }
        var encoded = [UInt8](repeating: 0, count: size)
        guard png_image_write_to_memory(&image, &encoded, &size, 0, pixels, 0, nil) != 0 else {
            throw ImageIOError(path: path, reason: libpngMessage(&image))
        }
        try writeFileAtomically(Array(encoded.prefix(size)), to: path)
    }
}

/// The simplified API's format code for 8-bit gray, RGB or RGBA (its PNG_FORMAT_RGBA macro is not importable).
private func libpngFormat(channels: Int) -> png_uint_32 {
    let color = png_uint_32(PNG_FORMAT_FLAG_COLOR)
    let alpha = png_uint_32(PNG_FORMAT_FLAG_ALPHA)
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
