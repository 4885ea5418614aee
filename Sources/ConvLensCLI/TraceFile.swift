import FileAccess
import Foundation
import OpenCLRuntime

/// `--trace FILE.json`: the run in Chrome's trace-event format (Perfetto, chrome://tracing). Kernels sit on a
/// device track with their global size, shapes and work as arguments; transfers on a second track; program
/// builds on a host track. Device times are moved onto the host clock by the profiler's measured offset.
enum TraceFile {
    static func write(device: [DeviceCommandTiming], host: [HostPhase], offset: Int64, deviceName: String,
                      to path: String) throws {
        let origin = min(host.map(\.start).min() ?? .max,
                         device.map { UInt64(max(0, Int64(bitPattern: $0.start) + offset)) }.min() ?? .max)
        func microseconds(_ hostNanoseconds: Int64) -> Double { Double(hostNanoseconds - Int64(bitPattern: origin)) / 1e3 }

        var events: [[String: Any]] = [
            metadata(track: 1, name: "device: \(deviceName)"), metadata(track: 2, name: "transfers"),
            metadata(track: 3, name: "host"),
        ]
        for command in device {
            var arguments: [String: Any] = ["global": command.global.map(String.init).joined(separator: "×")]
            if !command.annotation.detail.isEmpty { arguments["shape"] = command.annotation.detail }
            if let flops = command.annotation.flops { arguments["flops"] = flops }
            if let bytes = command.annotation.bytes { arguments["bytes"] = bytes }
            events.append([
                "name": command.name, "cat": command.kind.rawValue, "ph": "X", "pid": 1,
                "tid": command.kind == .kernel ? 1 : 2,
                "ts": microseconds(Int64(bitPattern: command.start) + offset),
                "dur": Double(command.end - command.start) / 1e3, "args": arguments,
            ])
        }
        for phase in host {
            events.append([
                "name": phase.name, "cat": phase.category, "ph": "X", "pid": 1, "tid": 3,
                "ts": microseconds(Int64(bitPattern: phase.start)), "dur": Double(phase.end - phase.start) / 1e3,
            ])
        }
        let data = try JSONSerialization.data(
            withJSONObject: ["traceEvents": events, "displayTimeUnit": "ms"], options: [.sortedKeys])
        try FileAccess.writeAtomically(Array(data), to: path)  // one-line errors ("No space left on device")
    }

    private static func metadata(track: Int, name: String) -> [String: Any] {
        ["name": "thread_name", "ph": "M", "pid": 1, "tid": track, "args": ["name": name]]
    }
}
