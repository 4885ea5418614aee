import Foundation

/// Where ConvLens keeps what it learns about a machine between runs (compiled programs, measured peaks):
/// $XDG_CACHE_HOME/convlens, or ~/.cache/convlens when that is unset.
public enum CacheFolder {
    public static var url: URL {
        let base = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache")
        return base.appendingPathComponent("convlens")
    }
}
