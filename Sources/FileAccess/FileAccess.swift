import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Reading and writing the files a command names, safely against what a path may turn out to be: a FIFO that
/// would block forever, a device that never ends (`/dev/zero`), a symbolic link or device an atomic rename would
/// replace (`--out /dev/null`), or the very file the run read its input from. Shared by image, array and model I/O.
public enum FileAccess {
    /// The largest file read whole into memory (an image, an array, a model's protobuf): 4 GiB.
    public static let maximumReadBytes = 4 << 30

    /// The whole content of the regular file at `path`, at most `limit` bytes; the file is remembered as one of
    /// this run's inputs, which `writeAtomically` then never replaces.
    /// - Throws: `FileAccessError` with the system's reason, or saying the path is not a regular file or too large.
    public static func read(_ path: String, limit: Int = maximumReadBytes) throws(FileAccessError) -> [UInt8] {
        // Non-blocking, so that opening a FIFO returns at once; the type is checked on the open descriptor.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileAccessError(path: path, reason: systemReason()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileAccessError(path: path, reason: systemReason()) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw FileAccessError(path: path, reason: "not a regular file (\(kind(of: status.st_mode)))")
        }
        guard Int(status.st_size) <= limit else {
            throw FileAccessError(path: path, reason: "is \(status.st_size) bytes; files read whole are at most \(limit)")
        }
        _ = fcntl(descriptor, F_SETFL, 0)  // back to blocking reads for a regular file
        readFiles.withLock { _ = $0.insert(FileIdentity(status)) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(status.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileAccessError(path: path, reason: systemReason())
            }
            guard bytes.count + count <= limit else {  // the file grew while being read
                throw FileAccessError(path: path, reason: "grew past \(limit) bytes while being read")
            }
            bytes += chunk[..<count]
        }
    }

    /// Remembers `path` as one of this run's inputs (a file read another way, such as a memory-mapped model), so
    /// `writeAtomically` refuses to replace it. Paths that do not exist are ignored.
    public static func noteInput(_ path: String) {
        var status = stat()
        if stat(path, &status) == 0 { readFiles.withLock { _ = $0.insert(FileIdentity(status)) } }
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers see the old file or
    /// the whole new one, and a failure leaves no partial file behind. Only a regular file is replaced, never a
    /// symbolic link, device, FIFO or folder (the rename would replace the node itself: `--out /dev/null` would
    /// destroy it), and never a file this run read as input.
    /// - Throws: `FileAccessError` saying why.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileAccessError) {
        var existing = stat()
        if lstat(path, &existing) == 0 {
            guard existing.st_mode & S_IFMT == S_IFREG else {
                throw FileAccessError(path: path, reason: "exists and is not a regular file (\(kind(of: existing.st_mode))); "
                    + "ConvLens replaces only regular files")
            }
            if readFiles.withLock({ $0.contains(FileIdentity(existing)) }) {
                throw FileAccessError(path: path, reason: "is an input of this run; write the output to another file")
            }
        }
        // Same directory, so the rename cannot cross file systems; pid and UUID keep concurrent writers apart.
        let temporary = path + ".partial-\(getpid())-\(UUID().uuidString)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw FileAccessError(path: path, reason: systemReason()) }
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
            throw FileAccessError(path: path, reason: failure)
        }
    }

    /// Device and inode of every file read as input in this process.
    private static let readFiles = Mutex<Set<FileIdentity>>([])

    private static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a plain file"
        }
    }

    /// The text for the current `errno`.
    private static func systemReason() -> String { String(cString: strerror(errno)) }
}

/// A file as the file system knows it, whatever path led to it.
private struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}

/// A file that could not be read or written; `description` is one line: `"x.npy: not a regular file (a FIFO)"`.
public struct FileAccessError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
