import Dispatch
import OpenCLRuntime
import TensorOps

/// One product the local-tile search times: a convolution pass on its local-tile algorithm, or a plain product
/// (im2col's, on matmul_local).
struct LocalTuningProblem {
    let shapeClass: LocalShapeClass
    let geometry: Conv2DGeometry
    let product: LocalProduct

    /// The four local-tile products of `g` (a depthwise layer has none: its own kernels run it), as the launchers
    /// class them (`OpenCLBackend+LocalTiles`).
    static func all(_ g: Conv2DGeometry) -> [LocalTuningProblem] {
        guard !g.isDepthwise else { return [] }
        let taps = g.kernelHeight * g.kernelWidth, positions = g.outHeight * g.outWidth
        let shapes: [(LocalProduct, m: Int, n: Int, k: Int)] = [
            (.gemm, g.outChannelsPerGroup, positions, g.columnRows),
            (.forward, g.outChannelsPerGroup, g.batch * positions, g.columnRows),
            (.backwardInput, g.inChannelsPerGroup, g.batch * g.inHeight * g.inWidth, g.outChannelsPerGroup * taps),
            (.backwardWeight, g.outChannelsPerGroup, g.columnRows, g.batch * positions),
        ]
        return shapes.map {
            LocalTuningProblem(shapeClass: LocalShapeClass($0.0, m: $0.m, n: $0.n, k: $0.k), geometry: g, product: $0.0)
        }
    }
}

extension ConvTuner {
    /// The local tiling that measured fastest for each shape class of `geometries`' products, as CLBlast's tuner
    /// searches xgemm's defines: the device class's tiling and a fixed first set, then `samples` drawn at random from
    /// the whole space (seeded, so a rerun tries the same ones), every candidate timed on every class (the sum of
    /// medians over the class's products, at most `problemsPerClass` of them). No candidate after the default is
    /// timed once `minutes` have passed. A class keeps the default unless the best is `requiredGain` faster.
    public func tuneLocalTilings(
        for geometries: [Conv2DGeometry], samples: Int, minutes: Double, problemsPerClass: Int = 3,
        progress: (String) -> Void
    ) throws -> [TunedLocalTiling] {
        let start = DispatchTime.now().uptimeNanoseconds
        let elapsedMinutes = { Double(DispatchTime.now().uptimeNanoseconds - start) / 6e10 }
        var byClass: [LocalShapeClass: [LocalTuningProblem]] = [:]
        var order: [LocalShapeClass] = []
        for problem in geometries.flatMap(LocalTuningProblem.all) {
            if byClass[problem.shapeClass] == nil { order.append(problem.shapeClass) }
            if byClass[problem.shapeClass, default: []].count < problemsPerClass {
                byClass[problem.shapeClass, default: []].append(problem)
            }
        }
        let defaults = DeviceTuning.defaults(for: try DeviceClass.configured(for: device))
        var random = SeededGenerator(seed: 0x10CA1)
        let candidates = LocalTiling.candidates(first: defaults.localTiling, device: device, samples: samples,
                                                using: &random)
        var times: [LocalShapeClass: [(LocalTiling, Double)]] = [:]
        for (index, tiling) in candidates.enumerated() {
            if index > 0 && elapsedMinutes() > minutes {
                progress("time budget of \(minutes) min spent after \(index) of \(candidates.count) candidates")
                break
            }
            var tuning = defaults
            tuning.localTiling = tiling
            var totals: [Double] = []
            do {
                let backend = try OpenCLBackend(device: device, tuning: tuning)
                for shapeClass in order {
                    totals.append(try byClass[shapeClass]!.reduce(0) { $0 + (try time($1, on: backend)) })
                }
            } catch {
                // A tiling the device's compiler or resources refuse (registers, local memory) is skipped, named.
                progress("local \(tiling): skipped, \(error)")
                continue
            }
            for (shapeClass, total) in zip(order, totals) { times[shapeClass, default: []].append((tiling, total)) }
            progress("local \(tiling): " + totals.map { String(format: "%.3g", $0) }.joined(separator: " ") + " ms")
        }
        return order.compactMap { shapeClass in
            guard let measured = times[shapeClass], let best = measured.min(by: { $0.1 < $1.1 }) else { return nil }
            let defaultTime = measured.first { $0.0 == defaults.localTiling }?.1 ?? .infinity
            let keep = best.1 * Self.requiredGain < defaultTime ? best : (defaults.localTiling, defaultTime)
            return TunedLocalTiling(shapeClass: shapeClass, tiling: keep.0, defaultMilliseconds: defaultTime,
                                    milliseconds: keep.1, candidates: measured.count)
        }
    }

    /// Median milliseconds of `problem` on `backend` (random operands, made once per call).
    private func time(_ problem: LocalTuningProblem, on backend: OpenCLBackend) throws -> Double {
        let g = problem.geometry, p = g.parameters
        var random = SeededGenerator(seed: 0x7E_4E)
        let upload = { (shape: TensorShape) in try backend.upload(HostTensor.randomNormal(shape, using: &random)) }
        switch problem.product {
        case .gemm:
            let (m, n, k) = (g.outChannelsPerGroup, g.outHeight * g.outWidth, g.columnRows)
            let (a, b, c) = (try upload([m * k]), try upload([k * n]), try backend.makeTensor([m * n]))
            return try median(backend) {
                try backend.matmul(MatrixView(buffer: a.buffer, rowStride: k), MatrixView(buffer: b.buffer, rowStride: n),
                                   into: MatrixView(buffer: c.buffer, rowStride: n), m: m, n: n, k: k, engine: .local)
            }
        case .forward:
            let (x, w, y) = (try upload(g.input), try upload(g.weight), try backend.makeTensor(g.output))
            return try backend.withConvAlgorithm(.implicitGemmLocal) {
                try median(backend) { try backend.conv2dForward(input: x, weight: w, bias: nil, output: y, parameters: p) }
            }
        case .backwardInput:
            let (dy, w, dx) = (try upload(g.output), try upload(g.weight), try backend.makeTensor(g.input))
            return try backend.withConvAlgorithm(.implicitGemmLocal) {
                try median(backend) {
                    try backend.conv2dBackwardInput(gradOutput: dy, weight: w, gradInput: dx, parameters: p)
                }
            }
        case .backwardWeight:
            let (dy, x, dw) = (try upload(g.output), try upload(g.input), try backend.makeTensor(g.weight))
            return try backend.withConvAlgorithm(.splitK) {
                try median(backend) {
                    try backend.conv2dBackwardWeight(gradOutput: dy, input: x, gradWeight: dw, gradBias: nil, parameters: p)
                }
            }
        }
    }
}
