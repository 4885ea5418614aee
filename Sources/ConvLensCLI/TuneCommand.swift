import ArgumentParser
import Foundation
import ModelGraph
import OpenCLBackend
import TensorOps

/// `convlens tune`: measures the device's matrix-product tile and each convolution layer's fastest algorithm, and
/// stores them for every later run on this device and driver.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Measure the fastest GEMM tile and convolution algorithms on this device, and keep them.",
        discussion: """
            First times each candidate register tile of the matrix product on the layers' products (the device \
            class's default among them). On a GPU (or with --local), then searches the local-tile kernels' defines \
            (work-group block, its shape, terms per step, vector widths, padding) per shape class: a fixed first \
            set, then --local-samples drawn at random until half of --minutes has passed, as CLBlast's tuner \
            does. Then, with the winners, times every algorithm that computes each pass of each layer: the bench's \
            convolution layers at --batches, and every convolution of each --model at its input size. The winners \
            are written beside the program cache, keyed by device and driver (~/.cache/convlens/tuning), and the \
            planner takes them for those exact shapes from then on; other shapes keep the device class's rules. \
            CONVLENS_TUNING=off ignores the file; --clear deletes it.
            """)

    @Option(help: ArgumentHelp("Also tune this model's convolutions (repeatable).", valueName: "model.onnx"))
    var model: [String] = []

    @Option(help: ArgumentHelp("Only the bench's layers whose name contains this (e.g. conv3_1).", valueName: "name"))
    var layer: String?

    @Option(help: "Batch sizes for the bench's layers and the models.")
    var batches: [Int] = [1, 8]

    @Option(parsing: .unconditional, help: "Timed runs per candidate.")
    var runs = 5

    @Option(parsing: .unconditional, help: "Untimed runs before timing (at least one, which also builds the kernels).")
    var warmup = 1

    @Flag(inversion: .prefixedNo, help: """
        Search the local-tile kernels' defines per shape class (default: on a GPU; a CPU runs them only where \
        forced).
        """)
    var local: Bool?

    @Option(help: "Candidates drawn at random for the local tiles, after the fixed first set.")
    var localSamples = 24

    @Option(help: """
        The tune's time budget in minutes: no local-tile candidate after the default is timed once half of it \
        has passed, leaving the rest for timing the algorithms (which run to the end).
        """)
    var minutes = 20.0

    @Flag(help: "Print what is stored for this device, measure nothing.")
    var show = false

    @Flag(help: "Delete what is stored for this device.")
    var clear = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard global.backend == .opencl else { throw ValidationError("tune measures the OpenCL device; --backend cpu has nothing to tune") }
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be at least 1 and --warmup not negative") }
        guard batches.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--batches must be positive") }
        guard localSamples >= 0, minutes > 0 else {
            throw ValidationError("--local-samples must not be negative and --minutes must be positive")
        }
        guard !(show && clear) else { throw ValidationError("--show and --clear exclude each other") }
    }

    func run() throws {
        let device = try global.openCLBackend().context.device
        let file = TunedConvolutions.file(for: device)
        if clear {
            if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
            print("cleared \(file.path)")
            return
        }
        if show {
            guard let tuned = try TunedConvolutions.load(for: device) else {
                print("\(device.name): not tuned (\(file.path) does not exist)")
                return
            }
            printStored(tuned, file: file.path)
            return
        }
        let clock = Stopwatch()
        let geometries = try layers()
        let deviceClass = try DeviceClass.configured(for: device)
        print("device: \(device.name) [\(device.platformName)], driver \(device.driverVersion); class \(deviceClass.rawValue)")
        print("\(geometries.count) layers; \(runs) runs after \(max(1, warmup)) warm-up per candidate\n")
        let tuner = ConvTuner(device: device, runs: runs, warmup: warmup)
        let tile = try tuner.tuneTiling(for: geometries) { print("  \($0)") }
        print(String(format: "matrix product: %@, %.2f ms against the default's %.2f ms\n", tile.description,
                     tile.milliseconds, tile.defaultMilliseconds))

        var localTilings: [TunedLocalTiling]?
        if local ?? !deviceClass.isCPU {
            let drawing = max(0, minutes / 2 - clock.minutes)
            print(String(format: "local tiles: the fixed set, then %d random candidates, for %.1f min at most",
                         localSamples, drawing))
            let found = try tuner.tuneLocalTilings(for: geometries, samples: localSamples, minutes: drawing) {
                print("  \($0)")
            }
            for entry in found { print("local tiles for \(entry.description)") }
            print("")
            localTilings = found
        }

        let backend = try OpenCLBackend(
            device: device, tuning: DeviceTuning.defaults(for: deviceClass).with(tile).with(localTilings ?? []))
        var measurements: [TunedConvolutions.Measurement] = []
        var changed = 0
        for g in geometries {
            for measurement in try tuner.measure(g, on: backend) {
                let choice = backend.planner.defaultAlgorithm(measurement.pass, g)
                if choice != measurement.winner { changed += 1 }
                measurements.append(measurement)
                print(Self.line(measurement, default: choice))
            }
        }
        let tuned = TunedConvolutions(device: device, deviceClass: deviceClass, measured: ISO8601DateFormatter().string(from: Date()),
                                      matmulTiling: tile, localTilings: localTilings, convolutions: measurements)
        try tuned.save(for: device)
        print("\nwrote \(file.path): \(measurements.count) passes, \(changed) choose other than the default rules")
        print(String(format: "tuned in %.1f min (budget %.1f)", clock.minutes, minutes))
    }

    /// The bench's convolution layers and each model's, at every batch size, without repeats.
    private func layers() throws -> [Conv2DGeometry] {
        var geometries: [Conv2DGeometry] = []
        for batch in batches {
            geometries += try BenchConvLayer.all.filter { layer.map($0.name.contains) ?? true }
                .map { try $0.geometry(batch: batch) }
            for path in model {
                let graph = try ONNXImporter.load(contentsOf: path)
                guard let inputShape = graph.input.shape(batch: batch) else {
                    throw ValidationError("--model \(path): input \(graph.input.name) has symbolic sizes beyond the batch")
                }
                let shapes = try graph.inferShapes(input: inputShape)
                for node in graph.nodes {
                    guard case .conv(let parameters) = node.operation, let x = shapes[node.inputs[0]],
                          let w = shapes[node.inputs[1]]
                    else { continue }
                    geometries.append(try Conv2DGeometry(input: x, weight: w, parameters: parameters))
                }
            }
        }
        guard !geometries.isEmpty else {
            throw CommandError("nothing to tune: no bench layer's name contains '\(layer ?? "")' and no --model")
        }
        var seen: Set<Conv2DGeometry> = []
        return geometries.filter { seen.insert($0).inserted }
    }

    /// Minutes since it was made.
    private struct Stopwatch {
        let start = Date()
        var minutes: Double { Date().timeIntervalSince(start) / 60 }
    }

    /// One pass's times, the winner first, and the default rules' choice when it differs.
    static func line(_ m: TunedConvolutions.Measurement, default choice: ConvAlgorithm) -> String {
        let times = m.milliseconds.sorted { $0.value < $1.value }
            .map { String(format: "%@ %.3g", $0.key, $0.value) }.joined(separator: ", ")
        let note = choice == m.winner ? "" : " (default rules: \(choice))"
        return "\(m.pass.rawValue) \(m.geometry): \(m.winner)\(note) | ms: \(times)"
    }

    private func printStored(_ tuned: TunedConvolutions, file: String) {
        Swift.print("\(file)\nmeasured \(tuned.measured) on \(tuned.device), driver \(tuned.driver)")
        if let tile = tuned.matmulTiling {
            Swift.print(String(format: "matrix product: %@, %.2f ms against the default's %.2f ms", tile.description,
                               tile.milliseconds, tile.defaultMilliseconds))
        }
        for entry in tuned.localTilings ?? [] { Swift.print("local tiles for \(entry.description)") }
        for measurement in tuned.convolutions {
            Swift.print(Self.line(measurement, default: measurement.winner))
        }
    }
}
