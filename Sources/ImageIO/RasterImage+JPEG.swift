extension RasterImage {
    /// Reads a baseline or progressive JPEG file through libjpeg-turbo as 8-bit gray (1 channel) or RGB (3).
    ///
    /// CMYK files and files libjpeg can only partly decode (truncated, corrupt entropy data) are refused
    /// rather than returned with gray patches.
    /// - Parameter path: The file to read.
    /// - Throws: `ImageIOError` naming the file and the system's or libjpeg's message.
    public init(jpegFile path: String) throws(ImageIOError) {
        self = try LibJPEGDecoder.decode(readFileBytes(path), path: path)
    }
}
