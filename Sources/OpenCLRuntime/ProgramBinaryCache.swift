internal import COpenCL
import Foundation

/// Compiled programs kept on disk, so a warm start compiles nothing: the driver's binary for each (source,
/// options, device, driver version), in ~/.cache/convlens/programs (or $XDG_CACHE_HOME/convlens/programs).
/// `CONVLENS_PROGRAM_CACHE=off` turns it off.
///
/// An entry is checked before the driver sees it: a header names the key it was stored under, the binary's length
/// and an FNV-1a checksum, so a file cut short, corrupted, or copied under another entry's name is deleted and the
/// program rebuilt (and stored again) instead of crashing the driver's deserializer or failing forever with
/// `CL_INVALID_KERNEL_NAME`. Failing to write an entry is not an error either: the run goes on uncached.
struct ProgramBinaryCache {
    static let variable = "CONVLENS_PROGRAM_CACHE"
    let folder: URL?

    /// "CLPB" and format version 1, then the key, the binary's length and checksum (little-endian UInt64s).
    static let magic: [UInt8] = [0x43, 0x4C, 0x50, 0x42, 1, 0, 0, 0]
    static let headerSize = magic.count + 3 * 8

    init() {
        let environment = ProcessInfo.processInfo.environment
        guard environment[Self.variable] != "off" else {
            folder = nil
            return
        }
        folder = CacheFolder.url.appendingPathComponent("programs")
    }

    /// One program's entry: its key (FNV-1a over everything that changes the binary) and file.
    struct Entry {
        let key: UInt64
        let file: URL
    }

    func entry(sourceHash: UInt64, options: String, device: OpenCLDevice) -> Entry? {
        var hash = sourceHash
        for byte in "\(options)|\(device.name)|\(device.vendor)|\(device.driverVersion)|\(device.platformName)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return folder.map { Entry(key: hash, file: $0.appendingPathComponent(String(hash, radix: 16) + ".bin")) }
    }

    /// The stored binary, or nil when there is none or the entry is not whole and its own (then it is deleted).
    func load(_ entry: Entry?) -> Data? {
        guard let entry, let bytes = try? Data(contentsOf: entry.file) else { return nil }
        if let binary = Self.checkedBinary(bytes, key: entry.key) { return binary }
        try? FileManager.default.removeItem(at: entry.file)
        return nil
    }

    /// The binary inside `bytes` when the header matches `key` and the binary's length and checksum.
    static func checkedBinary(_ bytes: Data, key: UInt64) -> Data? {
        guard bytes.count > headerSize, bytes.prefix(magic.count).elementsEqual(magic) else { return nil }
        func word(_ index: Int) -> UInt64 {
            bytes.dropFirst(magic.count + 8 * index).prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        let binary = bytes.dropFirst(headerSize)
        guard word(0) == key, word(1) == UInt64(binary.count), word(2) == checksum(binary) else { return nil }
        return Data(binary)
    }

    /// An entry's bytes: header and binary.
    static func entryBytes(_ binary: [UInt8], key: UInt64) -> [UInt8] {
        var bytes = magic
        for word in [key, UInt64(binary.count), checksum(binary)] {
            bytes += (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) }
        }
        return bytes + binary
    }

    /// FNV-1a, 64-bit.
    static func checksum<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }

    /// Stores the binary of a built program for `device` (the program was built for that one device only),
    /// atomically (a temporary file renamed over the entry).
    func store(_ program: cl_program, to entry: Entry?) {
        guard let entry, let folder else { return }
        var size = 0
        guard clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
            == CL_SUCCESS, size > 0
        else { return }
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBufferPointer { buffer -> cl_int in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(
                program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size,
                &pointer, nil)
        }
        guard status == CL_SUCCESS else { return }
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try? Data(Self.entryBytes(bytes, key: entry.key)).write(to: entry.file, options: .atomic)
    }
}
