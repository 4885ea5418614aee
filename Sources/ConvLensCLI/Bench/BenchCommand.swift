import ArgumentParser
import Foundation
import OpenCLBackend
import TensorBoard
import TensorOps

/// `convlens bench`: device ceilings, convolution layers, whole models and the visualizations, timed on the
/// OpenCL device (wall clock around each call, which waits for its kernels), medians of `--runs` after warm-up.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the device's peaks, convolution layers, whole models, Grad-CAM, Score-CAM and filter-visualization steps.",
        discussion: """
            Medians of --runs timed calls after --warmup untimed ones, with min and max. The measured FMA and copy \
            peaks are stored in ~/.cache/convlens for --profile's "of peak" column. Models are read from --models \
            (alexnet, vgg16, resnet18, resnet50, mobilenet_v2 .onnx, made by Tools/export_torchvision.py); a missing \
            one is skipped and named. Tools/bench_peers.py runs the same workloads in PyTorch and onnxruntime.
            """)

    enum Suite: String, ExpressibleByArgument, CaseIterable { case ops, models, vis, embed, all }

    @Option(help: "Which workloads: ops (peaks and conv layers), models, vis (Grad-CAM, Score-CAM, Ablation-CAM, filter steps), embed (t-SNE of 5,000 MNIST digits), or all.")
    var suite: Suite = .all

    @Option(help: ArgumentHelp("Also write every result as a JSON list of records.", valueName: "file.json"))
    var json: String?

    @Option(parsing: .unconditional, help: "Timed runs per workload (at least 10 for reported figures).")
    var runs = 10

    @Option(parsing: .unconditional, help: "Untimed runs before timing.")
    var warmup = 2

    @Option(help: ArgumentHelp("Folder of the random-weight ONNX models (and mnist5000.npy for embed).", valueName: "dir"))
    var models = "\(NSHomeDirectory())/convlens-models"

    @Option(help: "Batch sizes for the convolution layers and the models.")
    var batches: [Int] = [1, 8]

    @Option(help: "Time only the convolution layers whose name contains this (e.g. conv3_1).")
    var layer: String?

    @Option(help: ArgumentHelp("Also log every result to this TensorBoard folder as scalars: each workload and pass's median ms and GFLOP/s, plotted over the batch size, and with --profile each kernel's device time and launches (`tensorboard --logdir DIR`).", valueName: "dir"))
    var tensorboard: String?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard global.backend == .opencl else { throw ValidationError("bench times the OpenCL device; --backend cpu has nothing to time") }
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be at least 1 and --warmup not negative") }
        guard batches.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--batches must be positive") }
        if let json {
            let folder = URL(fileURLWithPath: json).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: folder) else {
                throw ValidationError("--json \(json): folder \(folder) does not exist")
            }
        }
    }

    func run() throws {
        try global.checkProfiling()
        let backend = try global.openCLBackend()
        var bench = Bench(backend: backend, runs: runs, warmup: warmup)
        print("device: \(backend.context.device.name) [\(backend.context.device.platformName)]; \(runs) runs after \(warmup) warm-up")
        bench.table.printHeader()
        let profile = try global.withProfiling(backend) {
            if suite == .ops || suite == .all {
                try bench.peaks()
                try bench.convLayers(batches: batches, only: layer)
            }
            if suite == .models || suite == .all { try bench.models(folder: models, batches: batches) }
            if suite == .vis || suite == .all { try bench.visualizations(folder: models) }
            if suite == .embed || suite == .all { try bench.embeddings(folder: models) }
        }
        if let tensorboard {
            let log = try EventWriter(directory: tensorboard)
            // The batch size is the step: each workload's time and rate plot against it.
            for record in bench.records {
                let tag = "bench/\(record.workload)/\(record.direction)"
                try log.scalars([("\(tag)/median_ms", Float(record.median_ms))]
                                    + (record.gflops.map { [("\(tag)/gflops", Float($0))] } ?? []), step: record.batch)
            }
            for row in profile?.rows ?? [] {
                try log.scalars([("kernels/\(row.name)/device_ms", Float(Double(row.nanoseconds) / 1e6)),
                                 ("kernels/\(row.name)/launches", Float(row.launches))], step: 0)
            }
            print("logged to \(log.path)")
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(bench.records).write(to: URL(fileURLWithPath: json), options: .atomic)
            print("wrote \(json) (\(bench.records.count) records)")
        }
    }
}

/// The running state of one `convlens bench`: the backend, the records so far and the table they print as.
struct Bench {
    let backend: OpenCLBackend
    let runs: Int
    let warmup: Int
    var records: [BenchRecord] = []
    let table = TextTable(
        columns: [TextTable.Column("workload"), TextTable.Column("direction"), TextTable.Column("batch", alignRight: true),
                  TextTable.Column("median ms", alignRight: true), TextTable.Column("min ms", alignRight: true),
                  TextTable.Column("max ms", alignRight: true), TextTable.Column("GFLOP/s", alignRight: true),
                  TextTable.Column("algorithm")],
        widths: [24, 18, 5, 11, 10, 10, 8, 14])

    var deviceName: String { backend.context.device.name }

    /// Records and prints one result; `flops` per call gives GFLOP/s at the median.
    mutating func add(_ workload: String, _ direction: String, batch: Int, _ timing: Timing, flops: Int? = nil,
                      bytes: Int? = nil, algorithm: ConvAlgorithm? = nil) {
        let gflops = flops.map { Double($0) / timing.median / 1e6 }
        let bandwidth = bytes.map { Double($0) / timing.median / 1e6 }
        records.append(BenchRecord(workload: workload, direction: direction, batch: batch, median_ms: timing.median,
                                   min_ms: timing.minimum, max_ms: timing.maximum, gflops: gflops,
                                   gigabytes_per_second: bandwidth, runs: timing.milliseconds.count, device: deviceName,
                                   algorithm: algorithm?.rawValue))
        table.printRow([workload, direction, "\(batch)", String(format: "%.3f", timing.median),
                        String(format: "%.3f", timing.minimum), String(format: "%.3f", timing.maximum),
                        gflops.map { String(format: "%.1f", $0) } ?? (bandwidth.map { String(format: "%.1f GB/s", $0) } ?? "–"),
                        algorithm?.rawValue ?? ""])
    }

    /// A tensor of seeded uniform values in [−1, 1).
    func random(_ shape: TensorShape, seed: UInt64) throws -> OpenCLBackend.Tensor {
        var generator = SeededGenerator(seed: seed)
        return try backend.upload(HostTensor(shape: shape, values: (0..<shape.count).map { _ in
            Float.random(in: -1..<1, using: &generator)
        }))
    }
}
