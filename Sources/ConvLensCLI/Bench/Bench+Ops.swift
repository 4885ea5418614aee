import Foundation
import OpenCLBackend
import OpenCLRuntime
import TensorOps

extension Bench {
    /// FMA throughput and copy bandwidth from Kernels/probe.cl (device time of each kernel), stored for
    /// --profile's "of peak" column.
    mutating func peaks() throws {
        var fmaSamples: [Double] = [], flops = 0
        var copySamples: [Double] = [], bytes = 0
        let buffers = try backend.makePeakProbeBuffers()
        for index in 0..<(warmup + runs) {
            let (fmaSeconds, fmaFlops) = try backend.fmaProbe(buffers)
            let (copySeconds, copyBytes) = try backend.copyProbe(buffers)
            guard index >= warmup else { continue }
            fmaSamples.append(fmaSeconds * 1e3)
            copySamples.append(copySeconds * 1e3)
            (flops, bytes) = (fmaFlops, copyBytes)
        }
        let fma = Timing(milliseconds: fmaSamples), copy = Timing(milliseconds: copySamples)
        add("peak.fma", "probe", batch: 1, fma, flops: flops)
        add("peak.copy", "probe", batch: 1, copy, bytes: bytes)
        let peaks = DevicePeaks(device: deviceName, gflops: Double(flops) / fma.median / 1e6,
                                gigabytesPerSecond: Double(bytes) / copy.median / 1e6,
                                measured: ISO8601DateFormatter().string(from: Date()))
        try peaks.save()
    }

    /// Every layer of `BenchConvLayer.all`, forward, backward-input and backward-weight, at each batch size.
    mutating func convLayers(batches: [Int], only filter: String?) throws {
        for layer in BenchConvLayer.all where filter.map({ layer.name.contains($0) }) ?? true {
            for batch in batches {
                let g = try layer.geometry(batch: batch)
                let input = try random(g.input, seed: 1), weight = try random(g.weight, seed: 2)
                let gradOutput = try random(g.output, seed: 3)
                let output = try backend.makeTensor(g.output), gradInput = try backend.makeTensor(g.input)
                let gradWeight = try backend.makeTensor(g.weight)
                let backend = self.backend, p = layer.parameters
                add(layer.name, "forward", batch: batch, try time {
                    try backend.conv2dForward(input: input, weight: weight, bias: nil, output: output, parameters: p)
                }, flops: g.forwardCost(hasBias: false).flops, algorithm: backend.planner.algorithm(.forward, g))
                add(layer.name, "backward_input", batch: batch, try time {
                    try backend.conv2dBackwardInput(gradOutput: gradOutput, weight: weight, gradInput: gradInput, parameters: p)
                }, flops: g.backwardInputCost.flops, algorithm: backend.planner.algorithm(.backwardInput, g))
                add(layer.name, "backward_weight", batch: batch, try time {
                    try backend.conv2dBackwardWeight(gradOutput: gradOutput, input: input, gradWeight: gradWeight,
                                                     gradBias: nil, parameters: p)
                }, flops: g.backwardWeightCost(hasBias: false).flops,
                   algorithm: backend.planner.algorithm(.backwardWeight, g))
            }
        }
    }

    /// Times `body` followed by waiting for the device, `runs` times after `warmup` untimed calls (by default the
    /// bench's). `--profile` and `--trace` record the timed runs only, as
    /// the figures do: a warm-up's program loads and first allocations would show as idle gaps no timed run has.
    func time(runs: Int? = nil, warmup: Int? = nil, _ body: () throws -> Void) throws -> Timing {
        let (runs, warmup) = (runs ?? self.runs, warmup ?? self.warmup)
        let profiler = backend.context.profiler
        let recording = profiler.isEnabled
        if recording { profiler.disable() }
        for _ in 0..<warmup {
            try body()
            try backend.context.finish()
        }
        if recording { profiler.enable() }
        return try Timing.measure(runs: runs, warmup: 0) {
            let start = KernelProfiler.hostNow()
            try body()
            try backend.context.finish()
            profiler.recordHostPhase("run", category: KernelProfiler.timedRunCategory, since: start)
        }
    }
}
