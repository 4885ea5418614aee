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
            "concat forward", "concat backward", "pad2d forward", "pad2d backward", "permute forward",
            "permute backward", "irfft2 forward", "irfft2 backward", "affine_resample forward",
            "affine_resample backward", "image_penalty backward", "natural_prior backward", "add_seeded_normal forward", "adam step", "sgd step", "diversity backward",
            "polar_spectrum forward", "polar_spectrum backward", "standardize forward", "standardize backward",
            "nearest_neighbors forward", "perplexity_affinities forward", "tsne_forces forward", "tsne_tree_repulsion forward", "tsne_update step",
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
            "im2col_gemm backward_weight", "gemm_col2im backward_input", "winograd_4x4 forward",
            "winograd_4x4 backward_input", "gemm_local forward", "gemm_local backward_input", "gemm_local backward_weight",
            "implicit_gemm_local forward", "implicit_gemm_local backward_input", "split_k backward_weight",
        ]
        #expect(Set(expected).subtracting(runs).isEmpty, "never run: \(Set(expected).subtracting(runs).sorted())")
        #expect(ConvAlgorithm.allCases.allSatisfy { algorithm in runs.contains { $0.hasPrefix(algorithm.rawValue + " ") } })
    }

    @Test func coversTheShapeFeaturesTheIssueNames() {
        let geometries = Conv2DOp.parityCases.compactMap { ($0 as? Conv2DCase)?.geometry }
        #expect(geometries.contains { $0.parameters.stride.height == 2 })
        #expect(geometries.contains { $0.parameters.dilation.height == 2 })
        #expect(geometries.contains { $0.groups > 1 })
        #expect(geometries.contains { !$0.parameters.padding.isSymmetric })
        #expect(geometries.contains { $0.isDepthwise }, "depthwise")
        #expect(geometries.contains { $0.kernelHeight == 1 && $0.kernelWidth == 1 }, "1×1")
        #expect(geometries.contains { $0.kernelHeight == 7 && $0.kernelWidth == 7 }, "7×7")
        #expect(geometries.contains { $0.batch == 3 }, "batch 3")
    }

    @Test func seedsGiveIdenticalInputsOnEveryRun() throws {
        let parityCase = ParityCatalog.cases[0]
        let first = try parityCase.opCase.run(parityCase.direction, on: ReferenceBackend(), seed: parityCase.seed)
        let second = try parityCase.opCase.run(parityCase.direction, on: ReferenceBackend(), seed: parityCase.seed)
        #expect(first.map(\.values) == second.map(\.values))
    }
}
