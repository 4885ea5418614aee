import Foundation

/// One benchmark result, as `--json` writes it and Tools/bench_peers.py reads it.
struct BenchRecord: Codable {
    /// e.g. `vgg16.conv3_1`, `resnet50`, `gradcam.vgg16`, `peak.fma`.
    let workload: String
    /// `forward`, `backward_input`, `backward_weight`, `forward_backward`, or the probe's quantity.
    let direction: String
    let batch: Int
    let median_ms: Double
    let min_ms: Double
    let max_ms: Double
    /// Achieved rate at the median time; nil where the workload declares no FLOP count.
    let gflops: Double?
    /// Bandwidth at the median time, for the copy probe.
    let gigabytes_per_second: Double?
    let runs: Int
    let device: String
    /// The convolution algorithm the planner chose, for convolution layers.
    let algorithm: String?
}

/// Wall-clock samples of one workload: at least `runs` timed calls after `warmup` untimed ones.
struct Timing {
    let milliseconds: [Double]

    var median: Double {
        let sorted = milliseconds.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
    var minimum: Double { milliseconds.min() ?? 0 }
    var maximum: Double { milliseconds.max() ?? 0 }

    /// Times `body` (which must wait for its device work before returning).
    static func measure(runs: Int, warmup: Int, _ body: () throws -> Void) throws -> Timing {
        for _ in 0..<warmup { try body() }
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return Timing(milliseconds: samples)
    }
}
