import BackendParity
import Foundation
@testable import OpenCLBackend
import OpenCLRuntime
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The GPU-shaped kernels on local_tile.h's work-group tiles under defines the verify matrix's default tiling does
/// not reach: every vector width, padded local rows, blocks wider than the product, non-square work-groups; and
/// split-K's partial sums.
@Suite("Local tiles", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct LocalTilesTests {
    /// Tilings that together take every vector width of the search space, local padding, 128-wide blocks and
    /// work-groups of 8 × 32 and 32 × 8.
    static let tilings = [
        LocalTiling(mwg: 16, nwg: 16, kwg: 8, mdimc: 8, ndimc: 8, vwm: 1, vwn: 1),
        LocalTiling(mwg: 32, nwg: 64, kwg: 16, mdimc: 8, ndimc: 16, vwm: 2, vwn: 4, localPad: 1),
        LocalTiling(mwg: 64, nwg: 128, kwg: 32, mdimc: 8, ndimc: 16, vwm: 8, vwn: 8),
        LocalTiling(mwg: 128, nwg: 32, kwg: 8, mdimc: 32, ndimc: 8, vwm: 4, vwn: 2, localPad: 1),
    ]

    static func backend(_ tiling: LocalTiling, splitK: (groupsPerUnit: Int, minimumSteps: Int) = (4, 1)) throws
        -> OpenCLBackend
    {
        let device = try TestBackends.device().context.device
        var tuning = DeviceTuning.defaults(for: DeviceClass(device))
        tuning.localTiling = tiling
        (tuning.splitKGroupsPerComputeUnit, tuning.splitKMinimumSteps) = splitK
        return try OpenCLBackend(device: device, tuning: tuning)
    }

    /// matmul_local over a batch of 3 products of 45 × 70 results (partial blocks both ways, partial vectors) and
    /// 37 terms (a partial last step), A as stored and transposed, with a per-row and a per-column bias and
    /// added to what C holds, against the products in Double.
    @Test(arguments: tilings)
    func matmulLocalMatchesTheProductInDouble(_ tiling: LocalTiling) throws {
        let backend = try Self.backend(tiling)
        #expect(tiling.fits(backend.context.device))
        let (m, n, k, count) = (45, 70, 37, 3)
        var random = SeededGenerator(seed: 0x10CA)
        let a = HostTensor.randomNormal([count * m * k], using: &random)
        let b = HostTensor.randomNormal([count * k * n], using: &random)
        let c0 = HostTensor.randomNormal([count * m * n], using: &random)
        let bias = HostTensor.randomNormal([max(m, n)], using: &random)
        for (transposedA, perColumn) in [(false, false), (true, true)] {
            let (aDevice, bDevice, c) = (try backend.upload(a), try backend.upload(b), try backend.upload(c0))
            try backend.matmul(
                MatrixView(buffer: aDevice.buffer, rowStride: transposedA ? m : k), transposedA: transposedA,
                MatrixView(buffer: bDevice.buffer, rowStride: n), into: MatrixView(buffer: c.buffer, rowStride: n),
                bias: try backend.upload(bias).buffer, biasPerColumn: perColumn, m: m, n: n, k: k, accumulate: true,
                batch: MatmulBatch(count: count, aStride: m * k, bStride: k * n, cStride: m * n), engine: .local)
            var expected = [Double](repeating: 0, count: count * m * n)
            for z in 0..<count {
                for row in 0..<m {
                    for column in 0..<n {
                        var sum = Double(bias.values[perColumn ? column : row]) + Double(c0.values[(z * m + row) * n + column])
                        for term in 0..<k {
                            let aValue = transposedA ? a.values[z * m * k + term * m + row] : a.values[z * m * k + row * k + term]
                            sum += Double(aValue) * Double(b.values[z * k * n + term * n + column])
                        }
                        expected[(z * m + row) * n + column] = sum
                    }
                }
            }
            expectClose(try backend.download(c).values.map(Double.init), expected, relativeL2: Tolerance.deviceVsReference,
                        "matmul_local \(tiling), Aᵀ \(transposedA)")
        }
    }

    /// The local-tile convolutions under each tiling: a grouped, strided, dilated, asymmetrically padded layer
    /// (forward with bias, input gradient, weight gradient), against the reference backend.
    @Test(arguments: tilings)
    func convolutionsMatchTheReference(_ tiling: LocalTiling) throws {
        let backend = try Self.backend(tiling)
        let parameters = Conv2DParameters(stride: Size2D(2, 1), padding: Padding2D(top: 2, left: 0, bottom: 1, right: 3),
                                          dilation: Size2D(1, 2), groups: 2)
        let g = try Conv2DGeometry(input: [2, 6, 11, 13], weight: [10, 3, 3, 2], parameters: parameters)
        var random = SeededGenerator(seed: 0x10CB)
        let x = HostTensor.randomNormal(g.input, using: &random), w = HostTensor.randomNormal(g.weight, using: &random)
        let bias = HostTensor.randomNormal([g.outChannels], using: &random)
        let dy = HostTensor.randomNormal(g.output, using: &random)
        let reference = ReferenceBackend()
        let (rx, rw, rb, rdy) = (try reference.upload(x), try reference.upload(w), try reference.upload(bias), try reference.upload(dy))
        let (ry, rdx, rdw) = (try reference.makeTensor(g.output), try reference.makeTensor(g.input), try reference.makeTensor(g.weight))
        try reference.conv2dForward(input: rx, weight: rw, bias: rb, output: ry, parameters: parameters)
        try reference.conv2dBackwardInput(gradOutput: rdy, weight: rw, gradInput: rdx, parameters: parameters)
        try reference.conv2dBackwardWeight(gradOutput: rdy, input: rx, gradWeight: rdw, gradBias: nil, parameters: parameters)

        let (dx, dw, dyDevice) = (try backend.upload(x), try backend.upload(w), try backend.upload(dy))
        let (y, gradInput, gradWeight) = (try backend.makeTensor(g.output), try backend.makeTensor(g.input),
                                          try backend.makeTensor(g.weight))
        try backend.withConvAlgorithm(.implicitGemmLocal) {
            try backend.conv2dForward(input: dx, weight: dw, bias: try backend.upload(bias), output: y, parameters: parameters)
            try backend.conv2dBackwardInput(gradOutput: dyDevice, weight: dw, gradInput: gradInput, parameters: parameters)
        }
        try backend.withConvAlgorithm(.splitK) {
            try backend.conv2dBackwardWeight(gradOutput: dyDevice, input: dx, gradWeight: gradWeight, gradBias: nil,
                                             parameters: parameters)
        }
        for (name, actual, expected) in [("forward", y, ry), ("backward_input", gradInput, rdx), ("backward_weight", gradWeight, rdw)] {
            expectClose(try backend.download(actual).values.map(Double.init),
                        try reference.download(expected).values.map(Double.init),
                        relativeL2: Tolerance.deviceVsReference, "\(name) \(tiling)")
        }
    }

    /// The weight gradient split into several numbers of chunks (split-K) gives the one-chunk result to float
    /// rounding, and the same bytes on every run of one split: the partial sums are added in a fixed order.
    @Test func splitKAddsItsPartialSumsInOrder() throws {
        let tiling = LocalTiling(mwg: 16, nwg: 16, kwg: 8, mdimc: 8, ndimc: 8, vwm: 2, vwn: 2)
        let g = try Conv2DGeometry(input: [3, 5, 12, 12], weight: [7, 5, 3, 3], parameters: Conv2DParameters(padding: Padding2D(1)))
        var random = SeededGenerator(seed: 0x10CC)
        let (x, dy) = (HostTensor.randomNormal(g.input, using: &random), HostTensor.randomNormal(g.output, using: &random))
        var results: [[Float]] = []
        var splitCounts: Set<Int> = []
        // 432 terms, 54 steps of 8, over 3 blocks: up to 1 split for every 54, 8 or 1 steps, and as many as bring
        // the work-groups to the target per compute unit (with 2 units: 1, 6, 27 splits; more units, more).
        for splitK in [(1, 54), (12, 8), (40, 1)] {
            let backend = try Self.backend(tiling, splitK: splitK)
            let splits = backend.splitK(m: 7, n: 45, k: g.batch * 144, groups: 1).splits
            splitCounts.insert(splits)
            let (xDevice, dyDevice) = (try backend.upload(x), try backend.upload(dy))
            var runs: [[Float]] = []
            for _ in 0..<2 {
                let dw = try backend.makeTensor(g.weight)
                try backend.withConvAlgorithm(.splitK) {
                    try backend.conv2dBackwardWeight(gradOutput: dyDevice, input: xDevice, gradWeight: dw, gradBias: nil,
                                                     parameters: g.parameters)
                }
                runs.append(try backend.download(dw).values)
            }
            #expect(runs[0] == runs[1], "split-K with \(splits) splits repeats its bytes")
            results.append(runs[0])
        }
        #expect(splitCounts.count == 3 && splitCounts.contains(1), "split counts \(splitCounts.sorted())")
        for result in results.dropFirst() {
            expectClose(result.map(Double.init), results[0].map(Double.init), relativeL2: Tolerance.deviceVsReference,
                        "split-K against one split")
        }
    }
}

/// The search space and the shape classes, without a device.
@Suite("Local tilings")
struct LocalTilingTests {
    /// The seeded candidates are the same on every call, start with the default and the fixed set, and all fit the
    /// device they were drawn for; a tiling whose vectors do not divide its block, or whose work-group is too large,
    /// does not fit.
    @Test func candidatesAreSeededAndFit() throws {
        guard let device = try? TestBackends.device().context.device else { return }
        let first = DeviceTuning.defaults(for: DeviceClass(device)).localTiling
        var one = SeededGenerator(seed: 7), two = SeededGenerator(seed: 7)
        let a = LocalTiling.candidates(first: first, device: device, samples: 10, using: &one)
        let b = LocalTiling.candidates(first: first, device: device, samples: 10, using: &two)
        #expect(a == b)
        #expect(a.first == first)
        #expect(a.allSatisfy { $0.fits(device) })
        #expect(Set(a).count == a.count)
        #expect(!LocalTiling(mwg: 32, nwg: 32, kwg: 8, mdimc: 8, ndimc: 8, vwm: 8, vwn: 4).fits(device))
        let tooLarge = LocalTiling(mwg: 128, nwg: 128, kwg: 8, mdimc: 128, ndimc: 128, vwm: 1, vwn: 1)
        #expect(tooLarge.mdimc * tooLarge.ndimc > device.maxWorkGroupSize && !tooLarge.fits(device))
    }

    /// Sizes fall in the classes the doc comment names, at the bounds.
    @Test func shapeClassesBucketEachSize() {
        let small = LocalShapeClass(.forward, m: 32, n: 1024, k: 576)
        let large = LocalShapeClass(.forward, m: 129, n: 16_385, k: 4609)
        #expect((small.rows, small.columns, small.terms) == (0, 0, 0))
        #expect((large.rows, large.columns, large.terms) == (2, 2, 2))
        #expect(LocalShapeClass(.gemm, m: 64, n: 3136, k: 1152).description == "gemm, M ≤ 128, N ≤ 16384, K ≤ 4608")
    }

    /// A tuned file keeps its local tilings, and one written before them still reads (with none).
    @Test func tunedFilesRoundTripTheirLocalTilings() throws {
        let entry = TunedLocalTiling(
            shapeClass: LocalShapeClass(.backwardWeight, m: 64, n: 576, k: 100_000),
            tiling: LocalTiling(mwg: 64, nwg: 64, kwg: 32, mdimc: 8, ndimc: 8, vwm: 4, vwn: 4), defaultMilliseconds: 2,
            milliseconds: 1, candidates: 9)
        let json = try JSONEncoder().encode([entry])
        let decoded = try JSONDecoder().decode([TunedLocalTiling].self, from: json)
        #expect(decoded.first?.tiling == entry.tiling && decoded.first?.shapeClass == entry.shapeClass)
        let tuning = DeviceTuning.defaults(for: .gpu).with(decoded)
        #expect(tuning.localTiling(for: entry.shapeClass) == entry.tiling)
        #expect(tuning.localTiling(for: LocalShapeClass(.forward, m: 64, n: 576, k: 100_000)) == tuning.localTiling)
        let old = #"{"device": "d", "driver": "1", "measured": "2026", "convolutions": []}"#
        #expect(try JSONDecoder().decode(TunedConvolutions.self, from: Data(old.utf8)).localTilings == nil)
    }
}
