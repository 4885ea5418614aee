import Foundation
import OpenCLRuntime

/// `--profile`: one row per kernel name over a finished run, then the host-side totals.
struct ProfileReport {
    struct Row {
        let name: String
        var launches = 0
        var nanoseconds: UInt64 = 0
        /// Work of the launches that declared it; nil when any launch of this kernel declared none.
        var flops: Int? = 0
        var bytes: Int? = 0
    }

    /// Device time per backend operation (`KernelProfiler.withOperation`): each convolution pass with the
    /// algorithm it ran.
    struct OperationRow {
        let name: String
        var calls = 0
        var nanoseconds: UInt64 = 0
    }

    let rows: [Row]
    let operations: [OperationRow]
    let deviceNanoseconds: UInt64
    let builds: (count: Int, milliseconds: Double)
    let transfers: (count: Int, bytes: Int, milliseconds: Double)
    /// Device time with no command running, between the first command's start and the last one's end; where the
    /// run marked timed runs (`bench`), only inside them: the host's work between runs is not the device waiting.
    let idleNanoseconds: UInt64
    /// The timed runs the idle time was counted in; 0 when the whole recording counts.
    let timedRuns: Int
    let peaks: DevicePeaks?

    /// `offset` turns device timestamps into host ones (host = device + offset), as `KernelProfiler.collect` gives it.
    init(device: [DeviceCommandTiming], host: [HostPhase], offset: Int64, peaks: DevicePeaks?) {
        var byName: [String: Row] = [:]
        for command in device where command.kind == .kernel {
            var row = byName[command.name] ?? Row(name: command.name)
            row.launches += 1
            row.nanoseconds += command.end - command.start
            row.flops = command.annotation.flops.flatMap { flops in row.flops.map { $0 + flops } }
            row.bytes = command.annotation.bytes.flatMap { bytes in row.bytes.map { $0 + bytes } }
            byName[command.name] = row
        }
        rows = byName.values.sorted { $0.nanoseconds > $1.nanoseconds }
        var byOperation: [String: OperationRow] = [:]
        for phase in host where phase.category == "operation" {
            byOperation[phase.name, default: OperationRow(name: phase.name)].calls += 1
        }
        for command in device where command.kind == .kernel {
            guard let operation = command.operation else { continue }
            byOperation[operation, default: OperationRow(name: operation)].nanoseconds += command.end - command.start
        }
        operations = byOperation.values.sorted { $0.nanoseconds > $1.nanoseconds }
        deviceNanoseconds = rows.reduce(0) { $0 + $1.nanoseconds }
        let buildPhases = host.filter { $0.category == "program build" }
        builds = (buildPhases.count, buildPhases.reduce(0) { $0 + $1.milliseconds })
        let copies = device.filter { $0.kind != .kernel }
        transfers = (copies.count, copies.reduce(0) { $0 + ($1.annotation.bytes ?? 0) },
                     copies.reduce(0) { $0 + $1.milliseconds })
        let runs = host.filter { $0.category == KernelProfiler.timedRunCategory }
        func insideOneRun(_ from: UInt64, _ to: UInt64) -> Bool {
            guard !runs.isEmpty else { return true }
            let (start, end) = (Int64(bitPattern: from) + offset, Int64(bitPattern: to) + offset)
            return runs.contains { Int64(bitPattern: $0.start) <= start && end <= Int64(bitPattern: $0.end) }
        }
        var idle: UInt64 = 0
        var busyUntil: UInt64?
        for command in device.sorted(by: { $0.start < $1.start }) {
            if let until = busyUntil, command.start > until, insideOneRun(until, command.start) {
                idle += command.start - until
            }
            busyUntil = max(busyUntil ?? 0, command.end)
        }
        idleNanoseconds = idle
        timedRuns = runs.count
        self.peaks = peaks
    }

    func print() {
        let cells = rows.map { row -> [String] in
            let seconds = Double(row.nanoseconds) / 1e9
            let gflops = row.flops.flatMap { $0 > 0 && seconds > 0 ? Double($0) / seconds / 1e9 : nil }
            let gbps = row.bytes.flatMap { $0 > 0 && seconds > 0 ? Double($0) / seconds / 1e9 : nil }
            let ofPeak: String = {
                guard let peaks else { return "–" }
                let shares = [gflops.map { $0 / peaks.gflops }, gbps.map { $0 / peaks.gigabytesPerSecond }]
                guard let best = shares.compactMap({ $0 }).max() else { return "–" }
                return String(format: "%.0f%%", best * 100)
            }()
            return [row.name, "\(row.launches)", String(format: "%.2f", Double(row.nanoseconds) / 1e6),
                    String(format: "%.1f", Double(row.nanoseconds) / 1e3 / Double(row.launches)),
                    String(format: "%.1f%%", 100 * Double(row.nanoseconds) / Double(max(deviceNanoseconds, 1))),
                    gflops.map { String(format: "%.1f", $0) } ?? "–", gbps.map { String(format: "%.2f", $0) } ?? "–",
                    ofPeak]
        }
        let table = TextTable(
            columns: [TextTable.Column("kernel"), TextTable.Column("launches", alignRight: true),
                      TextTable.Column("total ms", alignRight: true), TextTable.Column("mean µs", alignRight: true),
                      TextTable.Column("share", alignRight: true), TextTable.Column("GFLOP/s", alignRight: true),
                      TextTable.Column("GB/s", alignRight: true), TextTable.Column("of peak", alignRight: true)],
            fitting: cells)
        Swift.print("")
        table.printHeader()
        cells.forEach(table.printRow)
        if !operations.isEmpty {
            let cells = operations.map { row in
                [row.name, "\(row.calls)", String(format: "%.2f", Double(row.nanoseconds) / 1e6),
                 String(format: "%.1f", Double(row.nanoseconds) / 1e3 / Double(max(row.calls, 1)))]
            }
            let table = TextTable(
                columns: [TextTable.Column("operation (pass, algorithm, shapes)"), TextTable.Column("calls", alignRight: true),
                          TextTable.Column("total ms", alignRight: true), TextTable.Column("mean µs", alignRight: true)],
                fitting: cells)
            Swift.print("")
            table.printHeader()
            cells.forEach(table.printRow)
        }
        Swift.print(String(format: "device: %.2f ms in kernels; idle gaps between commands %.2f ms",
                           Double(deviceNanoseconds) / 1e6, Double(idleNanoseconds) / 1e6)
                    + (timedRuns > 0 ? " (inside the \(timedRuns) timed runs; warm-ups not recorded)" : ""))
        Swift.print(String(format: "host: %d program builds %.1f ms; %d transfers, %.1f MB in %.2f ms",
                           builds.count, builds.milliseconds, transfers.count, Double(transfers.bytes) / 1e6,
                           transfers.milliseconds))
        if let peaks {
            Swift.print(String(format: "peaks (measured by convlens bench): %.1f GFLOP/s FMA, %.1f GB/s copy",
                               peaks.gflops, peaks.gigabytesPerSecond))
        } else {
            Swift.print("of peak: run `convlens bench --suite ops` once to measure this device's FMA and copy peaks")
        }
    }
}
