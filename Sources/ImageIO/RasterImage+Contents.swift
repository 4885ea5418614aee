extension RasterImage {
    /// The largest decoded image accepted (PNG or JPEG), in bytes: 256 MiB, a 9,459 × 9,459 RGB photo, far above any
    /// CNN input. A header declaring more is refused before anything is allocated for it.
    public static let maximumDecodedBytes = 1 << 28

    /// Reads a PNG or JPEG file, chosen by the file's first bytes (its signature), not by its name.
    ///
    /// PNGs come back as gray, RGB or RGBA (see ``init(pngFile:)``), JPEGs as gray or RGB (see
    /// ``init(jpegFile:)``).
    /// - Parameter path: The file to read.
    /// - Throws: `ImageIOError`: `"<path>: not a PNG or JPEG image"` for other files, otherwise the decoder's or
    ///   the system's reason.
    public init(contentsOf path: String) throws(ImageIOError) {
        try self.init(encoded: try readFileBytes(path), source: path)
    }

    /// Decodes PNG or JPEG bytes, chosen by their signature; `source` names them in errors.
    public init(encoded data: [UInt8], source: String) throws(ImageIOError) {
        if data.starts(with: pngSignature) {
            try self.init(pngData: data, path: source)
        } else if data.starts(with: jpegSignature) {
            self = try LibJPEGDecoder.decode(data, path: source)
        } else {
            throw ImageIOError(path: source, reason: "not a PNG or JPEG image")
        }
    }
}

/// Every PNG file starts with these eight bytes.
private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
/// A JPEG starts with the SOI marker followed by the next marker's 0xFF.
private let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]
