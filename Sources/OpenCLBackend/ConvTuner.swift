import Dispatch
import OpenCLRuntime
import TensorOps

/// What `convlens tune` measures on the device in use, in two steps (as CLBlast's tuner and cuDNN's algorithm
/// search do): first the matrix product's register tile, from a fixed set of candidates that fit the device's
/// registers, timed on the products of the layers being tuned; then, with that tile, every algorithm that computes
/// each pass of each layer. The results go to `TunedConvolutions`, which every later backend on this device reads.
public struct ConvTuner {
    public let device: OpenCLDevice
    public let runs: Int
    public let warmup: Int

    /// A measured choice replaces the default only when at least this much faster (5 %): closer times do not
    /// separate from the noise of a shared machine, and a default that measures as fast keeps its reasons.
    static let requiredGain = 1.05

    public init(device: OpenCLDevice, runs: Int, warmup: Int) {
        self.device = device
        self.runs = runs
        self.warmup = warmup
    }

    /// The tiles worth trying on `deviceClass`, the default first. CPU: every rows × vectors tile of the device's
    /// vector width whose sums, one B run and one broadcast A value fit the vector registers (16 with AVX2, 32
    /// with AVX-512), with and without the 4096-term launch limit. GPU: 2–8 rows of 1–2 float4 columns in
    /// work-groups of 16 × 8 and 16 × 16.
    static func tilingCandidates(_ deviceClass: DeviceClass, defaults: [MatmulTiling]) -> [MatmulTiling] {
        var candidates = defaults
        switch deviceClass {
        case .gpu:
            for rows in [2, 4, 8] {
                for vectors in [1, 2] {
                    for local in [[16, 8], [16, 16]] {
                        candidates.append(MatmulTiling(rows: rows, vectorWidth: 4, vectors: vectors, rowMajorOrder: false,
                                                       local: local, batchLocal: 1))
                    }
                }
            }
        default:
            let (width, registers) = switch deviceClass {
            case .cpuAVX512: (16, 32)
            case .cpuAVX2: (8, 16)
            default: (4, 16)
            }
            for rows in [4, 6, 8, 12, 14] {
                for vectors in 1...4 where rows * vectors + vectors + 1 <= registers && rows * vectors >= 8 {
                    for terms in [nil, 4096] as [Int?] {
                        candidates.append(MatmulTiling(rows: rows, vectorWidth: width, vectors: vectors, rowMajorOrder: true,
                                                       local: [1, 1], batchLocal: 4, termsPerLaunch: terms))
                    }
                }
            }
        }
        var seen: Set<MatmulTiling> = []
        return candidates.filter { seen.insert($0).inserted }
    }

    /// The candidate tile with the least total median time over the forward and weight-gradient products of
    /// `geometries` (each im2col product, m × n × k, once per distinct shape), or none (the device class's tiles,
    /// all of them) unless that one is `requiredGain` faster than the first default.
    public func tuneTiling(for geometries: [Conv2DGeometry], progress: (String) -> Void) throws -> TunedTiling {
        let deviceClass = try DeviceClass.configured(for: device)
        let defaults = DeviceTuning.defaults(for: deviceClass)
        var products: [(m: Int, n: Int, k: Int)] = []
        for g in geometries where !g.isDepthwise {
            let (rows, terms, positions) = (g.outChannelsPerGroup, g.columnRows, g.outHeight * g.outWidth)
            for product in [(rows, positions, terms), (terms, rows, positions)]
            where !products.contains(where: { $0 == product }) {
                products.append(product)
            }
        }
        let floats = products.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max() ?? 1
        var best: (tiling: MatmulTiling, milliseconds: Double)?
        var defaultMilliseconds = Double.infinity
        for tiling in Self.tilingCandidates(deviceClass, defaults: defaults.matmulTilings) {
            var tuning = defaults
            tuning.matmulTilings = [tiling]
            let backend = try OpenCLBackend(device: device, tuning: tuning)
            let padding = 4 * tiling.columns
            let (a, b, c) = try (backend.makeTensor([floats + padding]), backend.makeTensor([floats + padding]),
                                 backend.makeTensor([floats + padding]))
            var total = 0.0
            for product in products {
                total += try median(backend) {
                    try backend.matmul(MatrixView(buffer: a.buffer, rowStride: product.k),
                                       MatrixView(buffer: b.buffer, rowStride: product.n),
                                       into: MatrixView(buffer: c.buffer, rowStride: product.n),
                                       m: product.m, n: product.n, k: product.k, engine: .registerTiled)
                }
            }
            if tiling == defaults.matmulTilings[0] { defaultMilliseconds = total }
            progress(String(format: "tile %2d×%-2d (vectors of %d)%@: %.2f ms", tiling.rows, tiling.columns,
                            tiling.vectorWidth, tiling.termsPerLaunch.map { ", \($0) terms per launch" } ?? "", total))
            if total < best?.milliseconds ?? .infinity { best = (tiling, total) }
        }
        guard let best, best.milliseconds * Self.requiredGain < defaultMilliseconds else {
            return TunedTiling(tiling: nil, defaultMilliseconds: defaultMilliseconds, milliseconds: defaultMilliseconds)
        }
        return TunedTiling(tiling: best.tiling, defaultMilliseconds: defaultMilliseconds, milliseconds: best.milliseconds)
    }

    /// Times every algorithm that supports each pass of `g` on `backend` and names the fastest, or the default rules'
    /// choice unless the fastest beats it by `requiredGain`. An algorithm whose
    /// first timed call (after the warm-up that builds its kernels) takes over 4× the best median so far is not
    /// timed further (that one time is kept): the direct kernels on a large layer would take minutes.
    public func measure(_ g: Conv2DGeometry, on backend: OpenCLBackend) throws -> [TunedConvolutions.Measurement] {
        var random = SeededGenerator(seed: 0x7E_4E)
        func tensor(_ shape: TensorShape) throws -> OpenCLTensor<Float> {
            try backend.upload(.randomNormal(shape, using: &random))
        }
        let (input, weight, gradOutput) = (try tensor(g.input), try tensor(g.weight), try tensor(g.output))
        let (output, gradInput, gradWeight) = (try backend.makeTensor(g.output), try backend.makeTensor(g.input),
                                               try backend.makeTensor(g.weight))
        let p = g.parameters
        var measurements: [TunedConvolutions.Measurement] = []
        for pass in ConvPass.allCases {
            let call: () throws -> Void = switch pass {
            case .forward: { try backend.conv2dForward(input: input, weight: weight, bias: nil, output: output, parameters: p) }
            case .backwardInput: {
                try backend.conv2dBackwardInput(gradOutput: gradOutput, weight: weight, gradInput: gradInput, parameters: p)
            }
            case .backwardWeight: {
                try backend.conv2dBackwardWeight(gradOutput: gradOutput, input: input, gradWeight: gradWeight, gradBias: nil,
                                                 parameters: p)
            }
            }
            var times: [String: Double] = [:]
            var best = Double.infinity
            for algorithm in ConvAlgorithm.supporting(pass, g) {
                let time = try backend.withConvAlgorithm(algorithm) { try median(backend, cutoff: 4 * best, call) }
                times[algorithm.rawValue] = time
                best = min(best, time)
            }
            let fastest = ConvAlgorithm.supporting(pass, g).min { times[$0.rawValue]! < times[$1.rawValue]! } ?? .direct
            let planned = backend.planner.defaultAlgorithm(pass, g)
            let winner = times[fastest.rawValue]! * Self.requiredGain < times[planned.rawValue]! ? fastest : planned
            measurements.append(.init(pass: pass, geometry: g.description, winner: winner, milliseconds: times))
        }
        return measurements
    }

    /// Median wall-clock milliseconds of `runs` calls of `body` (each waiting for the device) after `warmup` untimed
    /// ones (at least one, which builds the kernels); the first timed call's alone when it exceeds `cutoff`.
    func median(_ backend: OpenCLBackend, cutoff: Double = .infinity, _ body: () throws -> Void) throws -> Double {
        func timed() throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            try backend.context.finish()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        for _ in 0..<max(1, warmup) { _ = try timed() }
        let first = try timed()
        if first > cutoff { return first }
        let samples = try ([first] + (1..<max(1, runs)).map { _ in try timed() }).sorted()
        return samples.count % 2 == 1 ? samples[samples.count / 2]
            : (samples[samples.count / 2 - 1] + samples[samples.count / 2]) / 2
    }
}
