import ArgumentParser
import BackendParity
import Foundation
import OpenCLBackend
import ReferenceBackend

/// `convlens verify`: every op and direction on the device and on the reference, compared.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare every OpenCL kernel with the CPU reference over a matrix of shapes.",
        discussion: """
            Runs each op and pass (forward, backward) over odd sizes, strides, dilations, groups, depthwise, \
            batches, 1×1 and 7×7 kernels and asymmetric padding, with seeded random inputs, on the device and on \
            the reference. A case passes when every float output is within rel L2 \(Tolerance.deviceVsReference) \
            and every index output matches exactly. Exits non-zero if any case fails.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only cases of this op (e.g. conv2d, max_pool2d, relu).")
    var op: String?

    func validate() throws {
        if global.backend == .cpu {
            throw ValidationError("verify compares the OpenCL device with the CPU reference; --backend cpu leaves nothing to compare")
        }
        if let op, !ParityCatalog.ops.contains(op) {
            throw ValidationError("unknown op '\(op)'; ops: \(ParityCatalog.ops.joined(separator: ", "))")
        }
    }

    func run() throws {
        try global.checkProfiling()
        let device = try global.openCLBackend()
        try global.withProfiling(device) { try check(on: device) }
    }

    private func check(on device: OpenCLBackend) throws {
        let reference = ReferenceBackend()
        let cases = ParityCatalog.cases.filter { op == nil || $0.op == op }
        print("device: \(device.name) (kernels: \(device.kernelOrigin)); reference: \(reference.name)")
        print("tolerance: rel L2 <= \(Tolerance.deviceVsReference), indices exact\n")

        let table = TextTable(columns: [
            .init("op"), .init("direction"), .init("shape"), .init("max abs err", alignRight: true),
            .init("rel L2 err", alignRight: true), .init("result"),
        ])
        var failed = 0
        table.printHeader()
        for parityCase in cases {
            let report = ParityRunner.compare(parityCase, candidate: device, reference: reference)
            if !report.passed { failed += 1 }
            table.printRow([
                parityCase.op, parityCase.direction.rawValue, parityCase.workload.shapeDescription,
                scientific(report.maxAbsoluteError), scientific(report.relativeL2Error),
                report.failure.map { "FAIL: \($0)" } ?? "pass",
            ])
        }
        print("\n\(cases.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.failure }
    }

    private func scientific(_ value: Double) -> String {
        value.isNaN ? "-" : String(format: "%.2e", value)
    }
}
