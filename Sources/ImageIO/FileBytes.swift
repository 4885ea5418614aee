import FileAccess

// Whole-file reads and atomic writes for the PNG, JPEG and NPY code, with FileAccess's safety (regular files only,
// never replacing an input or a device), its errors as ImageIOError so each format only deals with bytes.

/// The whole content of the regular file at `path`.
/// - Throws: `ImageIOError` with the system's reason, or saying the path is not a regular file or too large.
func readFileBytes(_ path: String) throws(ImageIOError) -> [UInt8] {
    do { return try FileAccess.read(path) } catch { throw ImageIOError(path: error.path, reason: error.reason) }
}

/// `FileAccess.writeAtomically`, its error as an `ImageIOError`.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws(ImageIOError) {
    do { try FileAccess.writeAtomically(bytes, to: path) } catch {
        throw ImageIOError(path: error.path, reason: error.reason)
    }
}
