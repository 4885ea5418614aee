import Foundation

/// Where ConvLens keeps what it learns about a machine between runs (compiled programs, measured peaks):
/// $XDG_CACHE_HOME/convlens, or ~/.cache/convlens when that is unset.
public enum CacheFolder {
    /// PoCL refuses to start (and the ICD loader then reports no platform at all) when it cannot create its kernel
    /// cache: `$POCL_CACHE_DIR`, else `$XDG_CACHE_HOME/pocl`, else `~/.cache/pocl`. When that folder cannot be
    /// created (a read-only or missing home), point PoCL at one under the temporary folder instead, so the device
    /// works, uncached between runs. Other drivers ignore the variable. Runs once, before the first OpenCL call.
    static func preparePoCLCache() {
        _ = poclCachePrepared
    }

    private static let poclCachePrepared: Bool = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["POCL_CACHE_DIR"] == nil else { return true }
        // PoCL reads $HOME itself (NSHomeDirectory may answer from the password database instead).
        let home = environment["HOME"] ?? NSHomeDirectory()
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: home).appendingPathComponent(".cache")
        let usual = base.appendingPathComponent("pocl")
        if (try? FileManager.default.createDirectory(at: usual, withIntermediateDirectories: true)) != nil,
           FileManager.default.isWritableFile(atPath: usual.path)
        {
            return true
        }
        let fallback = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-pocl-cache-\(getuid())")
        try? FileManager.default.createDirectory(at: fallback, withIntermediateDirectories: true)
        setenv("POCL_CACHE_DIR", fallback.path, 0)
        return true
    }()

    public static var url: URL {
        let base = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache")
        return base.appendingPathComponent("convlens")
    }
}
