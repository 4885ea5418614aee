@testable import OpenCLBackend
import Dispatch
import Foundation
import TensorOps
import TestSupport
import Testing

/// The convolution planner, without a device: it is a pure function of the shapes, the device class's tuning and
/// the measured winners.
@Suite("Convolution planner")
struct ConvPlannerTests {
    static func geometry(_ input: TensorShape, _ weight: TensorShape, _ parameters: Conv2DParameters) throws
        -> Conv2DGeometry
    {
        try Conv2DGeometry(input: input, weight: weight, parameters: parameters)
    }

    /// Every geometry of the verify matrix.
    static var catalogGeometries: [Conv2DGeometry] {
        Conv2DOp.parityCases.compactMap { ($0 as? Conv2DCase)?.geometry }
    }

    /// Whatever the device class, each default is an algorithm that computes the pass.
    @Test(arguments: DeviceClass.allCases)
    func defaultsAreSupported(_ deviceClass: DeviceClass) {
        let planner = ConvPlanner(tuning: .defaults(for: deviceClass))
        for g in Self.catalogGeometries {
            for pass in ConvPass.allCases {
                let algorithm = planner.algorithm(pass, g)
                #expect(algorithm.supports(pass, g), "\(deviceClass) chose \(algorithm) for \(pass) \(g)")
            }
        }
    }

    /// On a CPU, the catalog's implicit-GEMM shapes (rows of 30–32 outputs) take the kernel, forward and, at
    /// stride 1, backward-input; 1×1 windows do not, nor 14-wide rows where the tile is 32 or 48 columns wide
    /// (AVX-512: mostly padding), while AVX2's 16-column tile pads them by 1/7 and takes them. A GPU takes the
    /// local-tile kernels instead: implicit_gemm_local forward and backward-input, split_k for the weight gradient,
    /// but for depthwise layers (their own kernels) and narrow groups (direct).
    @Test func implicitGemmWhereItsTilesFitTheRows() throws {
        let strideTwo = try Self.geometry([1, 6, 20, 64], [10, 6, 3, 3], Conv2DParameters(stride: Size2D(2), padding: Padding2D(1)))
        let stem = try Self.geometry([1, 3, 30, 62], [8, 3, 7, 7], Conv2DParameters(stride: Size2D(2), padding: Padding2D(3)))
        let wide = try Self.geometry([2, 5, 14, 30], [14, 5, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let narrow = try Self.geometry([1, 64, 14, 14], [64, 64, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let projection = try Self.geometry([1, 16, 64, 64], [32, 16, 1, 1], Conv2DParameters(stride: Size2D(2)))
        for deviceClass in [DeviceClass.cpuAVX512, .cpuAVX2] {
            let planner = ConvPlanner(tuning: .defaults(for: deviceClass))
            #expect(planner.algorithm(.forward, strideTwo) == .implicitGemm)
            #expect(planner.algorithm(.forward, stem) == .implicitGemm)
            #expect(planner.algorithm(.forward, wide) == .implicitGemm)
            #expect(planner.algorithm(.backwardInput, wide) == .implicitGemm)
            #expect(planner.algorithm(.forward, narrow) == (deviceClass == .cpuAVX2 ? .implicitGemm : .im2colGemm))
            #expect(planner.algorithm(.forward, projection) == .im2colGemm)
        }
        let gpu = ConvPlanner(tuning: .defaults(for: .gpu))
        for g in [strideTwo, stem, wide, narrow, projection] {
            #expect(gpu.algorithm(.forward, g) == .implicitGemmLocal)
            #expect(gpu.algorithm(.backwardInput, g) == .implicitGemmLocal)
            #expect(gpu.algorithm(.backwardWeight, g) == .splitK)
        }
        let depthwise = try Self.geometry([1, 8, 16, 16], [8, 1, 3, 3], Conv2DParameters(padding: Padding2D(1), groups: 8))
        let narrowGroups = try Self.geometry([1, 8, 16, 16], [8, 2, 3, 3], Conv2DParameters(padding: Padding2D(1), groups: 4))
        #expect(![ConvAlgorithm.implicitGemmLocal, .splitK].contains(gpu.algorithm(.forward, depthwise)))
        #expect(gpu.algorithm(.backwardWeight, narrowGroups) == .direct)
    }

    /// Winograd from 128 channels and 256 tiles on; depthwise layers take their own kernels; narrow groups the
    /// direct ones; other input gradients that are no plain convolution go through col2im.
    @Test func defaultRules() throws {
        let planner = ConvPlanner(tuning: .defaults(for: .cpuAVX2))
        let conv3 = try Self.geometry([1, 128, 56, 56], [256, 128, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let conv5 = try Self.geometry([1, 512, 14, 14], [512, 512, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let conv5Batch = try Self.geometry([8, 512, 14, 14], [512, 512, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let depthwise = try Self.geometry([1, 144, 56, 56], [144, 1, 3, 3], Conv2DParameters(padding: Padding2D(1), groups: 144))
        let narrowGroups = try Self.geometry([1, 8, 10, 9], [6, 4, 3, 3], Conv2DParameters(padding: Padding2D(1), groups: 2))
        let strided = try Self.geometry([1, 128, 56, 56], [128, 128, 3, 3], Conv2DParameters(stride: Size2D(2), padding: Padding2D(1)))
        #expect(planner.algorithm(.forward, conv3) == .winograd)
        #expect(planner.algorithm(.backwardInput, conv3) == .winograd)
        #expect(planner.algorithm(.backwardWeight, conv3) == .im2colGemm)
        #expect(planner.algorithm(.forward, conv5) != .winograd, "49 tiles")
        #expect(planner.algorithm(.forward, conv5Batch) == .winograd, "392 tiles")
        #expect(planner.algorithm(.forward, depthwise) == .depthwise, "AVX2 measured the general kernels faster")
        // …except where their vector runs do not reach: stride 2, and planes too narrow for runs of 8.
        let stridedDepthwise = try Self.geometry([1, 96, 112, 112], [96, 1, 3, 3],
                                        Conv2DParameters(stride: Size2D(2), padding: Padding2D(1), groups: 96))
        let narrow = try Self.geometry([1, 1152, 7, 7], [1152, 1, 5, 5], Conv2DParameters(padding: Padding2D(2), groups: 1152))
        #expect(planner.algorithm(.forward, stridedDepthwise) == .depthwiseRows)
        #expect(planner.algorithm(.backwardInput, narrow) == .depthwiseRows)
        #expect(ConvPlanner(tuning: .defaults(for: .cpuAVX512)).algorithm(.forward, depthwise) == .depthwiseRows)
        #expect(planner.algorithm(.backwardWeight, depthwise) == .depthwise)
        #expect(planner.algorithm(.forward, narrowGroups) == .direct)
        #expect(planner.algorithm(.backwardInput, strided) == .gemmCol2im)
    }

    /// A forced algorithm runs every pass it supports, and only those; a measured winner replaces the default
    /// for its exact pass and geometry.
    @Test func forcedAndMeasuredChoices() throws {
        let conv3 = try Self.geometry([1, 128, 56, 56], [256, 128, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let strided = try Self.geometry([1, 128, 56, 56], [128, 128, 3, 3], Conv2DParameters(stride: Size2D(2), padding: Padding2D(1)))
        let forced = ConvPlanner(tuning: .defaults(for: .cpuAVX2), forced: .winograd)
        #expect(forced.algorithm(.forward, conv3) == .winograd)
        #expect(forced.algorithm(.forward, strided) == forced.defaultAlgorithm(.forward, strided))
        #expect(forced.algorithm(.backwardWeight, conv3) == .im2colGemm)

        let measured = ConvPlanner(
            tuning: .defaults(for: .cpuAVX2),
            measured: [TunedConvolutions.key(.forward, conv3): .implicitGemm,
                       TunedConvolutions.key(.backwardWeight, conv3): .winograd])
        #expect(measured.algorithm(.forward, conv3) == .implicitGemm)
        #expect(measured.algorithm(.backwardWeight, conv3) == .im2colGemm, "a stored winner that cannot run is ignored")
        #expect(measured.algorithm(.backwardInput, conv3) == .winograd)
    }

    /// `withConvAlgorithm` forces its algorithm for the calls inside it only: a thread working on the same backend
    /// meanwhile (as concurrent tests do) keeps the planner's choice, which a global switch would take from it.
    @Test(.enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func aForcedAlgorithmHoldsInsideItsCallOnly() throws {
        let backend = try TestBackends.device()
        let g = try Self.geometry([1, 128, 56, 56], [256, 128, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let planned = backend.planner.algorithm(.forward, g)
        let forced: ConvAlgorithm = planned == .direct ? .im2colGemm : .direct
        let (inside, elsewhere) = try backend.withConvAlgorithm(forced) { () -> (ConvAlgorithm, ConvAlgorithm) in
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var seen = forced
            DispatchQueue.global().async {
                seen = backend.planner.algorithm(.forward, g)
                done.signal()
            }
            done.wait()
            return (backend.planner.algorithm(.forward, g), seen)
        }
        #expect(inside == forced)
        #expect(elsewhere == planned)
        #expect(backend.planner.algorithm(.forward, g) == planned)
    }

    /// What `convlens tune` stores reads back the same, and its winners steer the planner for their exact shapes.
    @Test func storedMeasurementsRoundTripIntoThePlanner() throws {
        let conv3 = try Self.geometry([1, 128, 56, 56], [256, 128, 3, 3], Conv2DParameters(padding: Padding2D(1)))
        let measurement = TunedConvolutions.Measurement(
            pass: .forward, geometry: conv3.description, winner: .implicitGemm,
            milliseconds: ["winograd": 14.1, "implicit_gemm": 12.0, "im2col_gemm": 18.6, "direct": 135])
        let json = """
            {"device": "d", "driver": "1", "measured": "2026-12-06T12:00:00Z", "convolutions": \
            \(String(decoding: try JSONEncoder().encode([measurement]), as: UTF8.self))}
            """
        let tuned = try JSONDecoder().decode(TunedConvolutions.self, from: Data(json.utf8))
        #expect(tuned.matmulTiling == nil)
        let planner = ConvPlanner(tuning: .defaults(for: .cpuAVX2), measured: tuned.winners)
        #expect(planner.algorithm(.forward, conv3) == .implicitGemm)
        #expect(planner.algorithm(.backwardInput, conv3) == planner.defaultAlgorithm(.backwardInput, conv3))
        #expect(DeviceTuning.defaults(for: .cpuAVX512).with(
            TunedTiling(tiling: nil, defaultMilliseconds: 1, milliseconds: 1)).matmulTilings.count == 2,
            "a kept default keeps every default tile")
    }
}
