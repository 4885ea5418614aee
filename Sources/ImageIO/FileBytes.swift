import Foundation

// Whole-file reads and atomic writes with errors that name the path and say why (the errno text), shared by
// the PNG, JPEG and NPY code so each format only deals with bytes.

/// The whole content of the file at `path`.
/// - Throws: `ImageIOError` with the system's reason ("No such file or directory", "Is a directory" …).
func readFileBytes(_ path: String) throws(ImageIOError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw ImageIOError(path: path, reason: systemReason()) }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count == 0 { return bytes }
        if count < 0 {
            if errno == EINTR { continue }
            throw ImageIOError(path: path, reason: systemReason())
        }
        bytes += chunk[..<count]
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers see the old file or
/// the whole new one, and a failure leaves no partial file behind.
/// - Throws: `ImageIOError` with the system's reason.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws(ImageIOError) {
    // Same directory, so the rename cannot cross file systems; pid and UUID keep concurrent writers apart.
    let temporary = path + ".partial-\(getpid())-\(UUID().uuidString)"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o666)
    guard descriptor >= 0 else { throw ImageIOError(path: path, reason: systemReason()) }
    var failure: String?
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let count = write(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                failure = systemReason()
                return
            }
            offset += count
        }
    }
    if close(descriptor) != 0, failure == nil { failure = systemReason() }
    if failure == nil, rename(temporary, path) != 0 { failure = systemReason() }
    if let failure {
        unlink(temporary)
        throw ImageIOError(path: path, reason: failure)
    }
}

/// The text for the current `errno`.
private func systemReason() -> String { String(cString: strerror(errno)) }
