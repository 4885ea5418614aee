import ArgumentParser
import Foundation
import OpenCLBackend
import OpenCLRuntime
import ReferenceBackend

/// Where a command computes.
enum BackendKind: String, ExpressibleByArgument, CaseIterable {
    /// The OpenCL device (the product path).
    case opencl
    /// The plain-Swift reference (the specification; slow).
    case cpu
}

/// Options every computing command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Where to compute: opencl (the device) or cpu (the plain-Swift reference).")
    var backend: BackendKind = .opencl

    @Option(
        help: ArgumentHelp(
            "OpenCL device: an index from `convlens devices` or a case-insensitive name substring.",
            discussion: "Defaults to $CONVLENS_DEVICE, then to the first GPU, then to the first device."))
    var device: String?

    @Flag(help: "After the run, print per-kernel timings, achieved GFLOP/s and GB/s, and host-side totals.")
    var profile = false

    @Option(help: ArgumentHelp("Write the run's kernels, transfers and program builds as a Chrome trace (JSON).",
                               valueName: "file.json"))
    var trace: String?

    var recordsCommands: Bool { profile || trace != nil }

    /// Refuses --profile or --trace where they cannot work, before the command does anything.
    func checkProfiling() throws {
        if recordsCommands && backend == .cpu {
            throw CommandError("--profile and --trace time OpenCL kernels; the cpu backend has none")
        }
        if let trace {
            let folder = URL(fileURLWithPath: trace).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw CommandError("--trace \(trace): folder \(folder) does not exist")
            }
        }
    }

    /// Runs `body` on `backend`, recording its commands when `--profile` or `--trace` asks, and reports after.
    /// - Returns: the profile of the run when `--profile` or `--trace` recorded one (`bench --tensorboard` logs it).
    @discardableResult
    func withProfiling(_ backend: OpenCLBackend, _ body: () throws -> Void) throws -> ProfileReport? {
        let profiler = backend.context.profiler
        if recordsCommands { profiler.enable() }
        try body()
        guard recordsCommands else { return nil }
        try backend.context.finish()
        let (device, host, offset) = try profiler.collect()
        let report = ProfileReport(device: device, host: host, offset: offset,
                                   peaks: DevicePeaks.load(for: backend.context.device.name))
        if profile { report.print() }
        if let trace {
            try TraceFile.write(device: device, host: host, offset: offset, deviceName: backend.context.device.name,
                                to: trace)
            print("wrote \(trace) (\(device.count) device commands)")
        }
        return report
    }

    /// The OpenCL backend on the device `--device` (or its fallbacks) names.
    func openCLBackend() throws -> OpenCLBackend {
        try OpenCLBackend(deviceSelector: device)
    }
}
