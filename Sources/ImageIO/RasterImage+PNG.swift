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
        try Self.requireWholeChunks(data, path: path)
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
            // The header's size is checked before anything is allocated for it (a 74-byte file may declare
            // 100000 × 100000).
            let decodedBytes = Double(width) * Double(height) * Double(channels)  // PNG sides reach 2³¹ − 1
            guard decodedBytes <= Double(Self.maximumDecodedBytes) else {
                png_image_free(&image)
                return .failure(ImageIOError(path: path, reason: "declares \(width)×\(height) pixels (\(Int(decodedBytes)) "
                    + "bytes decoded); images are at most \(Self.maximumDecodedBytes) bytes decoded"))
            }
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

    /// Refuses to write PNG bytes under another format's name (`x.jpg` would hold a PNG every viewer misreads);
    /// a name without an extension is taken as given.
    public static func requirePNGName(_ path: String) throws(ImageIOError) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return }
        let suffix = name[name.index(after: dot)...].lowercased()
        guard suffix == "png" else {
            throw ImageIOError(path: path, reason: "ConvLens writes PNG pictures; name the file .png (not .\(suffix))")
        }
    }

    /// Refuses a PNG whose chunk structure does not fit its bytes: a chunk longer than what is left of the file
    /// (libpng would allocate the declared length first), before libpng sees it. The signature and each chunk's
    /// 12 bytes of length, type and CRC are walked; what is inside the chunks is libpng's to check.
    private static func requireWholeChunks(_ data: [UInt8], path: String) throws(ImageIOError) {
        var offset = 8  // the signature; libpng reports a wrong one
        while offset + 8 <= data.count {
            let length = data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard length <= data.count - offset - 12 else {
                throw ImageIOError(path: path, reason: "PNG chunk '\(type)' at byte \(offset) declares \(length) bytes; "
                    + "the file has \(max(data.count - offset - 12, 0)) left")
            }
            if type == "IEND" { return }
            offset += 12 + length
        }
    }

    /// Writes the image as an 8-bit PNG file (gray, RGB or RGBA as ``channels`` says).
    ///
    /// Encodes in memory, writes a temporary file beside `path` and renames it, so a failure never leaves a
    /// partial file behind.
    /// - Parameter path: The file to create or replace.
    /// - Throws: `ImageIOError` naming the file and what went wrong.
    public func writePNG(to path: String) throws(ImageIOError) {
        try Self.requirePNGName(path)
        try writeFileAtomically(try pngData(source: path), to: path)
    }

    /// The image encoded as an 8-bit PNG (gray, RGB or RGBA as ``channels`` says), in memory: what `writePNG`
    /// writes, and what a TensorBoard image summary carries.
    /// - Parameter source: the name errors give (the file it is for, if any).
    public func pngData(source: String = "PNG encoding") throws(ImageIOError) -> [UInt8] {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = libpngFormat(channels: channels)
        // First call sizes the encoding, the second fills it.
        var size = 0
        guard png_image_write_to_memory(&image, nil, &size, 0, pixels, 0, nil) != 0 else {
            throw ImageIOError(path: source, reason: libpngMessage(&image))
        }
        var encoded = [UInt8](repeating: 0, count: size)
        guard png_image_write_to_memory(&image, &encoded, &size, 0, pixels, 0, nil) != 0 else {
            throw ImageIOError(path: source, reason: libpngMessage(&image))
        }
        return Array(encoded.prefix(size))
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
