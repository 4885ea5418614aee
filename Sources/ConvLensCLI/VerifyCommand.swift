import ArgumentParser
import BackendParity
import TensorOps
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
            the reference; each convolution case once per algorithm that computes it (direct, depthwise, \
            winograd, implicit GEMM, im2col + GEMM, …), so every kernel is checked on this device whatever the \
            planner would choose here. A case passes when every float output is within rel L2 \
            \(Tolerance.deviceVsReference) and every index output matches exactly. Exits non-zero if any case fails.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only cases of this op (e.g. conv2d, max_pool2d, relu).")
    var op: String?

    @Option(help: "Only this convolution algorithm's runs of the conv2d cases (other ops as usual).")
    var algorithm: ConvAlgorithm?

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
        let cases = ParityCatalog.cases.filter { op == nil || $0.op == op }.compactMap { parityCase -> ParityCase? in
            guard let algorithm, !parityCase.algorithms.isEmpty else { return parityCase }
            let kept = parityCase.filteringAlgorithms { $0 == algorithm }
            return kept.algorithms.isEmpty ? nil : kept
        }
        print("device: \(device.name) (kernels: \(device.kernelOrigin)); reference: \(reference.name)")
        print("tolerance: rel L2 <= \(Tolerance.deviceVsReference), indices exact\n")

        let table = TextTable(columns: [
            .init("op"), .init("direction"), .init("algorithm"), .init("shape"), .init("max abs err", alignRight: true),
            .init("rel L2 err", alignRight: true), .init("result"),
        ], widths: [18, 16, ConvAlgorithm.allCases.map(\.rawValue.count).max() ?? 14, 48, 12, 12, 6])
        var (runs, failed) = (0, 0)
        table.printHeader()
        for parityCase in cases {
            for report in ParityRunner.compare(parityCase, candidate: device, reference: reference) {
                runs += 1
                if !report.passed { failed += 1 }
                table.printRow([
                    parityCase.op, parityCase.direction.rawValue, report.algorithm?.rawValue ?? "-",
                    parityCase.opCase.shapeDescription, scientific(report.maxAbsoluteError),
                    scientific(report.relativeL2Error), report.failure.map { "FAIL: \($0)" } ?? "pass",
                ])
            }
        }
        print("\n\(runs - failed) passed, \(failed) failed (\(cases.count) cases)")
        if failed > 0 { throw ExitCode.failure }
    }

    private func scientific(_ value: Double) -> String {
        value.isNaN ? "-" : String(format: "%.2e", value)
    }
}

extension ConvAlgorithm: ExpressibleByArgument {}
