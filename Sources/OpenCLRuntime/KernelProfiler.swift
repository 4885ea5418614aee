import Foundation
import Synchronization

/// What a launcher knows about one kernel launch beyond its name: the work it does and the shapes it ran on.
public struct LaunchAnnotation: Sendable {
    /// Floating-point operations (a multiply-add counts 2); nil when the op declares none.
    public var flops: Int?
    /// Compulsory bytes moved (each input read once, each output written once).
    public var bytes: Int?
    /// Shapes or sizes, shown in the trace (e.g. `m 256 n 3136 k 1152`).
    public var detail: String

    public init(flops: Int? = nil, bytes: Int? = nil, detail: String = "") {
        self.flops = flops
        self.bytes = bytes
        self.detail = detail
    }
}

/// One finished device command (kernel or transfer) with device timestamps in nanoseconds.
public struct DeviceCommandTiming: Sendable {
    public enum Kind: String, Sendable { case kernel, write, read }
    public let kind: Kind
    public let name: String
    public let global: [Int]
    public let annotation: LaunchAnnotation
    /// The backend operation the command belongs to (`KernelProfiler.withOperation`), e.g. a convolution pass and
    /// the algorithm it ran; nil outside one.
    public let operation: String?
    /// Device clock, nanoseconds.
    public let start: UInt64
    public let end: UInt64
    public var milliseconds: Double { Double(end - start) / 1e6 }
}

/// One host-side phase (a program build, a blocking transfer, or a step a command names), host clock.
public struct HostPhase: Sendable {
    public let name: String
    public let category: String
    /// Nanoseconds on the host's monotonic clock.
    public let start: UInt64
    public let end: UInt64
    public var milliseconds: Double { Double(end - start) / 1e6 }
}

/// Records every command of a context while enabled, for `--profile` and `--trace`.
///
/// Recording keeps the commands' events; `collect()` waits for them and turns them into timings. The offset
/// between the device clock and the host clock is taken from the first recorded command (its queued timestamp
/// against the host time it was enqueued at), so device and host phases share one time line in a trace.
public final class KernelProfiler: Sendable {
    private struct Pending {
        let kind: DeviceCommandTiming.Kind
        let name: String
        let global: [Int]
        let annotation: LaunchAnnotation
        let operation: String?
        let event: KernelEvent
        let hostEnqueued: UInt64
    }

    private let state = Mutex<(enabled: Bool, pending: [Pending], host: [HostPhase], operation: String?)>(
        (false, [], [], nil))

    public var isEnabled: Bool { state.withLock { $0.enabled } }

    /// Starts recording (nothing is recorded, and nothing costs, until this is called).
    public func enable() { state.withLock { $0.enabled = true } }

    /// Stops recording until `enable` is called again; what was recorded stays.
    public func disable() { state.withLock { $0.enabled = false } }

    /// The category of the host phases a benchmark records around each timed run (`--profile` counts idle device
    /// time only inside them).
    public static let timedRunCategory = "timed run"

    /// The host's monotonic clock in nanoseconds, the time base of `HostPhase`.
    public static func hostNow() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func record(_ kind: DeviceCommandTiming.Kind, _ name: String, global: [Int], annotation: LaunchAnnotation?,
                event: KernelEvent, hostEnqueued: UInt64) {
        state.withLock {
            guard $0.enabled else { return }
            $0.pending.append(Pending(kind: kind, name: name, global: global, annotation: annotation ?? LaunchAnnotation(),
                                      operation: $0.operation, event: event, hostEnqueued: hostEnqueued))
        }
    }

    /// Records a host phase that ran from `start` until now (host clock), when enabled.
    public func recordHostPhase(_ name: String, category: String, since start: UInt64) {
        let end = Self.hostNow()
        state.withLock {
            guard $0.enabled else { return }
            $0.host.append(HostPhase(name: name, category: category, start: start, end: end))
        }
    }

    /// Runs `body` with every command it records tagged `operation` (a convolution pass and its algorithm), and
    /// records the call itself as a host phase of category `operation`, when enabled. Not nested: an inner call's
    /// tag replaces the outer one until it returns.
    public func withOperation<T, E: Error>(_ operation: @autoclosure () -> String, _ body: () throws(E) -> T) throws(E) -> T {
        guard isEnabled else { return try body() }
        let label = operation(), start = Self.hostNow()
        let outer = state.withLock { state in
            defer { state.operation = label }
            return state.operation
        }
        defer {
            state.withLock { $0.operation = outer }
            recordHostPhase(label, category: "operation", since: start)
        }
        return try body()
    }

    /// Waits for every recorded command and returns the timings in submission order, with the host phases and
    /// the device clock's offset to the host clock (host = device + offset).
    /// - Throws: `OpenCLError` from waiting on or querying an event.
    public func collect() throws(OpenCLError) -> (device: [DeviceCommandTiming], host: [HostPhase], offset: Int64) {
        let (pending, host) = state.withLock { ($0.pending, $0.host) }
        var timings: [DeviceCommandTiming] = []
        var offset: Int64 = 0
        for (index, command) in pending.enumerated() {
            let (queued, start, end) = try command.event.profile()
            if index == 0 { offset = Int64(bitPattern: command.hostEnqueued) - Int64(bitPattern: queued) }
            timings.append(DeviceCommandTiming(kind: command.kind, name: command.name, global: command.global,
                                               annotation: command.annotation, operation: command.operation,
                                               start: start, end: end))
        }
        return (timings, host, offset)
    }
}
