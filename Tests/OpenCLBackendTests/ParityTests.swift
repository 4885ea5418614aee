import BackendParity
import OpenCLBackend
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// Every kernel, every pass, every shape of the verify matrix: device against reference.
@Suite("OpenCL kernels match the reference", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct ParityTests {
    @Test(arguments: ParityCatalog.cases)
    func deviceMatchesReference(_ parityCase: ParityCase) throws {
        for report in ParityRunner.compare(parityCase, candidate: try TestBackends.device(), reference: ReferenceBackend()) {
            #expect(report.passed, "\(parityCase) [\(report.algorithm?.rawValue ?? "planned")]: \(report.failure ?? "")")
        }
    }
}

/// The verify matrix itself: large enough, and covering every op and pass the Backend protocol has.
@Suite("Parity catalog")
struct ParityCatalogTests {
    @Test func coversEveryOpAndPass() {
        let covered = Set(ParityCatalog.cases.map { "\($0.op) \($0.direction.rawValue)" })
        let required = [
            "conv2d forward", "conv2d backward_input", "conv2d backward_weight",
            "max_pool2d forward", "max_pool2d backward", "avg_pool2d forward", "avg_pool2d backward",
            "global_avg_pool2d forward", "global_avg_pool2d backward", "relu forward", "relu backward",
            "leaky_relu forward", "leaky_relu backward", "clip forward", "clip backward",
            "linear forward", "linear backward_input", "linear backward_weight",
            "sigmoid forward", "sigmoid backward", "add forward", "add backward", "mul forward", "mul backward",
            "channel_affine forward", "channel_affine backward", "softmax forward", "softmax backward",
            "concat forward", "concat backward", "pad2d forward", "pad2d backward", "transpose2d forward",
            "transpose2d backward", "irfft2 forward", "irfft2 backward", "affine_resample forward",
            "affine_resample backward", "image_penalty backward", "adam step", "sgd step", "diversity backward",
            "polar_spectrum forward", "polar_spectrum backward", "standardize forward", "standardize backward",
            "accumulate_absolute step",
        ]
        #expect(Set(required).subtracting(covered).isEmpty, "missing: \(Set(required).subtracting(covered))")
        #expect(ParityCatalog.cases.count >= 40)
    }

    /// Every convolution algorithm is checked on every pass it computes, so `verify` exercises each kernel on
    /// whatever device runs it.
    @Test func runsEveryConvolutionAlgorithmOnEveryPassItComputes() {
        let runs = Set(ParityCatalog.cases.flatMap { parityCase in
            parityCase.algorithms.map { "\($0) \(parityCase.direction.rawValue)" }
        })
        let expected = [
            "direct forward", "direct backward_input", "direct backward_weight", "depthwise forward",
            "depthwise backward_input", "depthwise backward_weight", "depthwise_rows forward",
            "depthwise_rows backward_input", "winograd forward", "winograd backward_input", "implicit_gemm forward",
            "implicit_gemm backward_input", "im2col_gemm forward", "im2col_gemm backward_input",
            "im2col_gemm backward_weight", "gemm_col2im backward_input",
        ]
        #expect(Set(expected).subtracting(runs).isEmpty, "never run: \(Set(expected).subtracting(runs).sorted())")
        #expect(ConvAlgorithm.allCases.allSatisfy { algorithm in runs.contains { $0.hasPrefix(algorithm.rawValue + " ") } })
    }

    @Test func coversTheShapeFeaturesTheIssueNames() {
        let convolutions: [Conv2DParameters] = ParityCatalog.workloads.compactMap {
            if case .conv2d(_, _, _, let p) = $0 { p } else { nil }
        }
        let weights: [TensorShape] = ParityCatalog.workloads.compactMap {
            if case .conv2d(_, let w, _, _) = $0 { w } else { nil }
        }
        #expect(convolutions.contains { $0.stride.height == 2 })
        #expect(convolutions.contains { $0.dilation.height == 2 })
        #expect(convolutions.contains { $0.groups > 1 })
        #expect(convolutions.contains { !$0.padding.isSymmetric })
        #expect(zip(weights, convolutions).contains { $1.groups > 1 && $0[1] == 1 }, "depthwise")
        #expect(weights.contains { $0[2] == 1 && $0[3] == 1 }, "1×1")
        #expect(weights.contains { $0[2] == 7 && $0[3] == 7 }, "7×7")
        #expect(ParityCatalog.workloads.contains {
            if case .conv2d(let x, _, _, _) = $0 { x[0] == 3 } else { false }
        }, "batch 3")
    }

    @Test func seedsGiveIdenticalInputsOnEveryRun() throws {
        let parityCase = ParityCatalog.cases[0]
        let first = try parityCase.workload.run(parityCase.direction, on: ReferenceBackend(), seed: parityCase.seed)
        let second = try parityCase.workload.run(parityCase.direction, on: ReferenceBackend(), seed: parityCase.seed)
        #expect(first.map(\.values) == second.map(\.values))
    }
}
