internal import COpenCL
import Foundation

/// Compiled programs kept on disk, so a warm start compiles nothing: the driver's binary for each (source,
/// options, device, driver version), in ~/.cache/convlens/programs (or $XDG_CACHE_HOME/convlens/programs).
/// `CONVLENS_PROGRAM_CACHE=off` turns it off. A binary that is missing, unreadable or rejected by the driver is
/// simply rebuilt from source; failing to write one is not an error either (the run goes on uncached).
struct ProgramBinaryCache {
    static let variable = "CONVLENS_PROGRAM_CACHE"
    let folder: URL?

    init() {
        let environment = ProcessInfo.processInfo.environment
        guard environment[Self.variable] != "off" else {
            folder = nil
            return
        }
        folder = CacheFolder.url.appendingPathComponent("programs")
    }

    /// The file name for one program: FNV-1a over everything that changes the binary.
    func file(sourceHash: UInt64, options: String, device: OpenCLDevice) -> URL? {
        var hash = sourceHash
        for byte in "\(options)|\(device.name)|\(device.vendor)|\(device.driverVersion)|\(device.platformName)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return folder?.appendingPathComponent(String(hash, radix: 16) + ".bin")
    }

    func load(_ file: URL?) -> Data? {
        file.flatMap { try? Data(contentsOf: $0) }
    }

    /// Stores the binary of a built program for `device` (the program was built for that one device only).
    func store(_ program: cl_program, to file: URL?) {
        guard let file, let folder else { return }
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
        try? Data(bytes).write(to: file, options: .atomic)
    }
}
