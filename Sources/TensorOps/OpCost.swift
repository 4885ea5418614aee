/// The work one op does, for profiling: achieved GFLOP/s and GB/s divide these by measured kernel time.
///
/// FLOPs count a multiply-add as 2 and a comparison, division or addition as 1. Bytes are the compulsory
/// float32 traffic: every input read once and every output written once (caches and re-reads not counted), so
/// bytes / time is a lower bound on the bandwidth the kernel achieved.
public struct OpCost: Hashable, Sendable {
    public var flops: Int
    public var bytes: Int

    public init(flops: Int, bytes: Int) {
        self.flops = flops
        self.bytes = bytes
    }

    /// `elements` float32 (or int32) values moved once.
    public static func traffic(_ elements: Int...) -> Int { elements.reduce(0, +) * 4 }
}
