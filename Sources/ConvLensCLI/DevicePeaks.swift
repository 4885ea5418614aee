import Foundation
import OpenCLRuntime

/// A device's measured ceilings, written by `convlens bench` and read by `--profile` for its "of peak" column:
/// kept per device name in ~/.cache/convlens (or $XDG_CACHE_HOME/convlens).
struct DevicePeaks: Codable {
    let device: String
    /// FMA throughput, GFLOP/s (a multiply-add counts 2).
    let gflops: Double
    /// Device-to-device copy bandwidth, GB/s (bytes read plus bytes written).
    let gigabytesPerSecond: Double
    /// When measured, ISO 8601.
    let measured: String

    static func file(for device: String) -> URL {
        let name = device.map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return CacheFolder.url.appendingPathComponent("peaks-\(String(name)).json")
    }

    /// The stored peaks of `device`, or nil when never measured (or unreadable).
    static func load(for device: String) -> DevicePeaks? {
        guard let data = try? Data(contentsOf: file(for: device)) else { return nil }
        return try? JSONDecoder().decode(DevicePeaks.self, from: data)
    }

    func save() throws {
        let url = Self.file(for: device)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}
