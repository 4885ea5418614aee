import Foundation
import ImageIO
import TensorOps
import TestSupport
import Testing

/// The commands as a user meets them: the bundled model by default, and every bad input refused with one line
/// naming what and where, a non-zero exit and no output file.
@Suite("convlens command line", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
struct CommandLineTests {
    let scratch: ScratchFolder
    let digit = "Sources/BundledModel/digits/digit_7_0013.png"

    init() throws { scratch = try ScratchFolder("convlens-cli") }

    private func path(_ name: String) -> String { scratch.path(name) }

    private func expectRefusal(_ arguments: [String], mentioning fragment: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        try ConvLensProcess.expectRefusal(arguments, mentioning: fragment, sourceLocation: sourceLocation)
    }

    @Test func forwardClassifiesABundledDigit() throws {
        let result = try ConvLensProcess.run(["forward", "--input", digit, "--top", "1", "--save-npy", path("logits.npy")])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("     1      7  7 "), "\(result.output)")
        #expect(FileManager.default.fileExists(atPath: path("logits.npy")))
    }

    /// `--save-values` writes what a ReLU saw and made, named as the ONNX file names them.
    @Test func forwardSavesTheValuesAroundChosenOps() throws {
        let folder = path("values")
        let result = try ConvLensProcess.run(["forward", "--input", digit, "--save-values", folder,
                                              "--values-for", "Relu,MaxPool"])
        #expect(result.status == 0, "\(result.error)")
        let manifest = try String(contentsOfFile: folder + "/values.tsv", encoding: .utf8)
        let rows = manifest.split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        #expect(Set(rows.map { $0[1] }) == ["Relu", "MaxPool"])
        let relu = try #require(rows.first { $0[1] == "Relu" && $0[2] == "input0" })
        let reluOutput = try #require(rows.first { $0[0] == relu[0] && $0[2] == "output" })
        let before = try NPYFile.read(folder + "/" + relu[5])
        let after = try NPYFile.read(folder + "/" + reluOutput[5])
        #expect(before.shape == after.shape && before.shape.dimensions.map(String.init).joined(separator: "x") == relu[4])
        #expect(after.values == before.values.map { max($0, 0) })
        #expect(before.values.contains { $0 < 0 } && before.values.contains { $0 > 0 })
        try expectRefusal(["forward", "--input", digit, "--save-values", path("none"), "--values-for", "Erf"],
                          mentioning: "--values-for Erf: the model has no node of that op type")
        #expect(!FileManager.default.fileExists(atPath: path("none")))
    }

    /// Numbers from the command line are checked before anything uses them: each of these crashed once.
    @Test func hostileNumbersAreRefusedBeforeUse() throws {
        let out = path("filters.png")
        for (arguments, fragment) in [
            (["--channels", "0-9223372036854775807"], "--channels: channel 9223372036854775807 is outside the layer's 64"),
            (["--octaves", "3", "--octave-scale", "0"], "--octave-scale must be above 1"),
            (["--rotate", "nan"], "--rotate must be from 0 to 360 degrees, got nan"),
            (["--size", "100000"], "--size must be from 8 to 4096, got 100000"),
            (["--lr", "inf"], "--lr must be positive and finite"),
            (["--steps", "-1"], "--steps must be from 1 to 1000000, got -1"),  // a negative number parses
        ] {
            try expectRefusal(["filters", "--steps", "2", "--out", out] + arguments, mentioning: fragment)
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        try expectRefusal(["saliency", "--input", digit, "--out", out, "--method", "smoothgrad", "--samples", "100000000"],
                          mentioning: "--samples must be from 1 to 10000")
        try expectRefusal(["forward", "--input", digit, "--size", "100000"],
                          mentioning: "a 100000×100000 input would need 40.0 GB per image; the largest side accepted is 8192 px")
        try expectRefusal(["forward", "--input", digit, "--std", "-1"], mentioning: "stds positive, got [0.1307] and [-1.0]")
        try expectRefusal(["saliency", "--input", digit, "--out", path("picture.jpg")],
                          mentioning: "picture.jpg: ConvLens writes PNG pictures; name the file .png (not .jpg)")
        #expect(!FileManager.default.fileExists(atPath: path("picture.jpg")))
    }

    /// Inputs must be regular files (a FIFO would block forever, a device never end); outputs replace only regular
    /// files, and never this run's input.
    @Test func nonRegularFilesAreRefused() throws {
        let fifo = path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let link = path("link.npy")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/zero")
        try expectRefusal(["forward", "--input", fifo], mentioning: "fifo: not a regular file (a FIFO)")
        try expectRefusal(["forward", "--input", link], mentioning: "link.npy: not a regular file (a device)")
        try expectRefusal(["forward", fifo, "--input", digit], mentioning: "not a readable ONNX model (cannot read the file: not a regular file")
        try expectRefusal(["forward", "--input", digit, "--save-npy", fifo],
                          mentioning: "fifo: exists and is not a regular file (a FIFO); ConvLens replaces only regular files")
        try expectRefusal(["forward", "--input", digit, "--save-npy", link],
                          mentioning: "link.npy: exists and is not a regular file (a symbolic link)")
        let copy = path("digit.png")
        try FileManager.default.copyItem(atPath: digit, toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        try expectRefusal(["saliency", "--input", copy, "--out", copy], mentioning: "digit.png: is an input of this run")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
    }

    /// Program cache entries cut short, cut to one byte or copied under another entry's name are rebuilt and
    /// replaced, never handed to the driver (whose deserializer crashed on them once).
    @Test func damagedProgramCacheEntriesAreRebuilt() throws {
        let cache = scratch.url.appendingPathComponent("cache")
        // A fresh ConvLens cache beside PoCL's usual one, so only ConvLens's entries start cold.
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        let environment = ["XDG_CACHE_HOME": cache.path,
                           "POCL_CACHE_DIR": ProcessInfo.processInfo.environment["POCL_CACHE_DIR"] ?? home + "/.cache/pocl"]
        let arguments = ["forward", "--input", digit, "--top", "1"]
        let first = try ConvLensProcess.run(arguments, environment: environment)
        #expect(first.status == 0, "\(first.error)")
        let folder = cache.appendingPathComponent("convlens/programs")
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".bin") }.sorted()
        try #require(entries.count >= 3, "\(entries)")
        let whole = try entries.map { try Data(contentsOf: folder.appendingPathComponent($0)) }
        try whole[0].prefix(whole[0].count / 2).write(to: folder.appendingPathComponent(entries[0]))
        try whole[1].prefix(1).write(to: folder.appendingPathComponent(entries[1]))
        try whole[0].write(to: folder.appendingPathComponent(entries[2]))  // a valid entry under another's name
        let second = try ConvLensProcess.run(arguments, environment: environment)
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.split(separator: "\n").last == first.output.split(separator: "\n").last)
        // Rebuilt and stored again, whole and under its own key: "CLPB" 1, the key (the file name), the length.
        for name in entries.prefix(3) {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            func word(_ index: Int) -> UInt64 { bytes[(8 + 8 * index)..<(16 + 8 * index)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
            try #require(bytes.count > 32, "\(name)")
            #expect(Array(bytes.prefix(5)) == [0x43, 0x4C, 0x50, 0x42, 1], "\(name)")
            #expect(String(word(0), radix: 16) + ".bin" == name && word(1) == UInt64(bytes.count - 32), "\(name)")
        }
    }

    /// PoCL cannot start without a kernel cache folder; a home where none can be made (here /proc) must not turn
    /// into "no OpenCL platform found".
    @Test func anUnwritableHomeStillFindsTheDevice() throws {
        let result = try ConvLensProcess.run(["forward", "--input", digit, "--top", "1"], environment: ["HOME": "/proc"],
                                             unsetting: ["XDG_CACHE_HOME", "POCL_CACHE_DIR"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("     1      7  7 "), "\(result.output)")
    }

    @Test func infoListsTheBundledModel() throws {
        let result = try ConvLensProcess.run(["info"])
        #expect(result.status == 0)
        #expect(result.output.contains("/features/features.0/Conv"))
        #expect(result.output.contains("15 nodes, 35514 parameters"))
    }

    /// The op list the README's "Bring your own model" shows comes from the importer itself.
    @Test func infoListsTheSupportedOps() throws {
        let result = try ConvLensProcess.run(["info", "--supported-ops"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("ai.onnx opsets 7–28; ops:\nAbs, Add, AveragePool,"))
        #expect(result.output.contains("Conv, ") && result.output.contains("HardSwish"))
        #expect(result.output.contains("\nfolded at load when they compute on shapes and constants (the input's size "
            + "fixed):\nAbs, Add, And, Cast,"))
        let readme = try String(contentsOf: ConvLensProcess.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(result.output), "README.md's op list differs from `convlens info --supported-ops`")
    }

    @Test func badModelsAreRefusedAndLeaveNoOutput() throws {
        let model = try Data(contentsOf: ConvLensProcess.repositoryRoot.appendingPathComponent("Sources/BundledModel/mnist_cnn.onnx"))
        try model.prefix(5000).write(to: URL(fileURLWithPath: path("truncated.onnx")))
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: path("text.onnx")))
        try expectRefusal(["info", path("truncated.onnx")], mentioning: "truncated.onnx: not a readable ONNX model")
        try expectRefusal(["forward", path("text.onnx"), "--input", digit, "--save-npy", path("out.npy")],
                          mentioning: "text.onnx: not a readable ONNX model")
        #expect(!FileManager.default.fileExists(atPath: path("out.npy")))
    }

    @Test func badInputsAreRefused() throws {
        try expectRefusal(["forward", "--input", path("missing.png")], mentioning: "missing.png")
        try expectRefusal(["forward", "--input", "README.md"], mentioning: "README.md: not a PNG or JPEG image")
        try Data([0x93, 0x4E, 0x55, 0x4D]).write(to: URL(fileURLWithPath: path("short.npy")))
        try expectRefusal(["forward", "--input", path("short.npy")], mentioning: "short.npy")
    }

    @Test func inputsThatDoNotFitTheModelAreRefused() throws {
        // A 3-channel tensor for a 1-channel model: written as NumPy would, 1×3×28×28 zeros.
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 28, 28), }"
        let padded = header + String(repeating: " ", count: (64 - (10 + header.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        data.append(contentsOf: [UInt8(padded.utf8.count & 0xFF), UInt8(padded.utf8.count >> 8)])
        data.append(Data(padded.utf8))
        data.append(Data(count: 3 * 28 * 28 * 4))
        try data.write(to: URL(fileURLWithPath: path("rgb.npy")))
        try expectRefusal(["forward", "--input", path("rgb.npy")], mentioning: "input 'input' must be N×1×28×28, got 1×3×28×28")
    }

    /// One NaN pixel: every command that shows a result refuses it, naming where the NaN came from, and writes nothing.
    @Test func nonFiniteResultsAreRefusedNamingTheirSource() throws {
        var pixels = [Float](repeating: 0.5, count: 28 * 28)
        pixels[300] = .nan
        try NPYFile.write(HostTensor(shape: [1, 1, 28, 28], values: pixels), to: path("nan.npy"))
        let input = ["--input", path("nan.npy")]
        try expectRefusal(["forward"] + input, mentioning: "the input 'input' holds NaN")
        try expectRefusal(["features"] + input + ["--layer", "/features/features.5/Relu", "--out", path("f.png")],
                          mentioning: "the input 'input' holds NaN")
        try expectRefusal(["cam"] + input + ["--out", path("c.png")], mentioning: "the input 'input' holds NaN")
        try expectRefusal(["saliency"] + input + ["--out", path("s.png")], mentioning: "the input 'input' holds NaN")
        for name in ["f.png", "c.png", "s.png"] { #expect(!FileManager.default.fileExists(atPath: path(name)), "\(name)") }
    }

    @Test func unknownDevicesAndOptionsAreRefused() throws {
        try expectRefusal(["verify", "--device", "no-such-device"], mentioning: "no OpenCL device matches 'no-such-device'")
        let result = try ConvLensProcess.run(["forward", "--input", digit, "--top", "0"])
        #expect(result.status != 0)
        #expect(result.error.contains("--top must be at least 1"))
    }

    @Test func aSeededFiltersRunWritesTheSameBytesTwice() throws {
        let arguments = ["filters", "--channels", "2,7", "--size", "24", "--steps", "3", "--seed", "11"]
        for name in ["first.png", "second.png"] {
            let result = try ConvLensProcess.run(arguments + ["--out", path(name), "--save-npy", path(name + ".npy")])
            #expect(result.status == 0, "\(result.error)")
        }
        let first = try Data(contentsOf: URL(fileURLWithPath: path("first.png")))
        #expect(!first.isEmpty)
        #expect(first == (try Data(contentsOf: URL(fileURLWithPath: path("second.png")))))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("first.png.npy")))
                == (try Data(contentsOf: URL(fileURLWithPath: path("second.png.npy")))))
    }

    @Test func filtersRefusesBadRequestsWithoutWritingAnything() throws {
        try expectRefusal(["filters", "--layer", "/features/features.14/Cnv", "--out", path("a.png")],
                          mentioning: "nearest: '/features/features.14/Conv'")
        try expectRefusal(["filters", "--channels", "70", "--out", path("b.png")],
                          mentioning: "channel 70 is outside the layer's 64 channels")
        try expectRefusal(["filters", "--size", "16", "--steps", "0", "--out", path("c.png")],
                          mentioning: "--steps must be from 1 to 1000000, got 0")
        // MaCo: a gray model, crops larger than the image, a missing spectrum table, transparency without MaCo.
        try expectRefusal(["filters", "--param", "maco", "--out", path("d.png")],
                          mentioning: "--param maco needs a 3-channel model")
        try expectRefusal(["filters", "--param", "maco", "--preprocess", "imagenet", "--crop-scale", "0.5:2",
                           "--out", path("e.png")],
                          mentioning: "--crop-scale 2.0 would take crops larger than the image")
        try expectRefusal(["filters", "--param", "maco", "--spectrum", path("missing.npy"), "--out", path("f.png")],
                          mentioning: "missing.npy")
        try expectRefusal(["filters", "--save-transparency", path("t.png"), "--out", path("g.png")],
                          mentioning: "--save-transparency needs --param maco")
        for name in ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png", "g.png", "t.png"] { #expect(!FileManager.default.fileExists(atPath: path(name))) }
    }

    @Test func featuresAndWeightsSheets() throws {
        let features = try ConvLensProcess.run(
            ["features", "--input", digit, "--layer", "/features/features.5/Relu", "--out", path("features.png"), "--stats"])
        #expect(features.status == 0, "\(features.error)")
        #expect(features.output.contains("/features/features.16/Relu"))
        let weights = try ConvLensProcess.run(["weights", "--layer", "/features/features.0/Conv", "--out", path("weights.png")])
        #expect(weights.status == 0, "\(weights.error)")
        for name in ["features.png", "weights.png"] {
            #expect(FileManager.default.fileExists(atPath: path(name)))
        }
        try expectRefusal(["weights", "--layer", "/features/features.2/Relu", "--out", path("w2.png")],
                          mentioning: "is not a convolution")
    }

    @Test func camAndSaliencyWritePicturesAndRefuseBadRequests() throws {
        let cam = try ConvLensProcess.run(["cam", "--input", digit, "--method", "gradcam++", "--out", path("cam.png"),
                                           "--save-npy", path("cam.npy"), "--metric", "deletion"])
        #expect(cam.status == 0, "\(cam.error)")
        #expect(cam.output.contains("class 7") && cam.output.contains("deletion AUC"), "\(cam.output)")
        let saliency = try ConvLensProcess.run(["saliency", "--input", digit, "--method", "smoothgrad", "--samples", "4",
                                                "--out", path("saliency.png"), "--save-npy", path("saliency.npy")])
        #expect(saliency.status == 0, "\(saliency.error)")
        for name in ["cam.png", "cam.npy", "saliency.png", "saliency.npy"] {
            #expect(FileManager.default.fileExists(atPath: path(name)), "\(name)")
        }
        try expectRefusal(["cam", "--input", digit, "--class", "12", "--out", path("c1.png")],
                          mentioning: "class 12 is outside the model's 10 outputs")
        try expectRefusal(["cam", "--input", digit, "--layer", "/classifier/Gemm", "--out", path("c2.png")],
                          mentioning: "has no spatial extent")
        try expectRefusal(["saliency", "--input", digit, "--class=-1", "--out", path("s1.png")],
                          mentioning: "class -1 is outside")
        let unit = ["saliency", "--input", digit, "--layer", "/features/features.2/Relu", "--channel"]
        let feature = try ConvLensProcess.run(unit + ["3", "--position", "5,6", "--out", path("unit.png")])
        #expect(feature.status == 0 && feature.output.contains("for '/features/features.2/Relu' channel 3 at (5, 6)"),
                "\(feature.output)\(feature.error)")
        try expectRefusal(unit + ["99", "--out", path("s2.png")], mentioning: "--channel 99 is outside the layer's 16 channels (0–15)")
        try expectRefusal(unit + ["3", "--position", "40,1", "--out", path("s3.png")],
                          mentioning: "--position 40,1 is outside the layer's 28×28 positions")
        try expectRefusal(["saliency", "--input", digit, "--layer", "/classifier/Gemm", "--channel", "1", "--position", "0,0",
                           "--out", path("s4.png")], mentioning: "has no spatial extent")
        try expectRefusal(unit + ["3", "--method", "guided-gradcam", "--out", path("s5.png")],
                          mentioning: "guided-gradcam weighs by a class's Grad-CAM map")
        try expectRefusal(["cam", "--input", digit, "--method", "sscam", "--samples", "0", "--out", path("c3.png")],
                          mentioning: "--samples must be from 1 to 10000, got 0")
        try expectRefusal(["cam", "--input", digit, "--method", "sscam", "--noise=-1", "--out", path("c4.png")],
                          mentioning: "--noise must be a finite number ≥ 0, got -1")
        try expectRefusal(["cam", "--input", digit, "--method", "fullgrad", "--layer", "/features/features.2/Relu", "--out", path("c5.png")],
                          mentioning: "--method fullgrad reads every layer with a bias and the input; it takes no --layer")
        for name in ["c1.png", "c2.png", "c3.png", "c4.png", "c5.png", "s1.png", "s2.png", "s3.png", "s4.png", "s5.png"] { #expect(!FileManager.default.fileExists(atPath: path(name))) }
    }

    /// A folder with one unreadable file: the others are explained, the bad one is named, and the exit is non-zero.
    @Test func camOverAFolderSkipsUnreadableImages() throws {
        let folder = path("digits")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["digit_3_0003.png", "digit_7_0013.png"] {
            try FileManager.default.copyItem(
                atPath: ConvLensProcess.repositoryRoot.appendingPathComponent("Sources/BundledModel/digits/\(name)").path,
                toPath: "\(folder)/\(name)")
        }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(folder)/broken.png"))
        let result = try ConvLensProcess.run(["cam", "--input", folder, "--out", path("maps"), "--batch", "2"])
        #expect(result.status != 0)
        #expect(result.error.contains("skipping \(folder)/broken.png"), "\(result.error)")
        #expect(result.error.contains("1 of 3 images could not be read"), "\(result.error)")
        for name in ["digit_3_0003.png", "digit_7_0013.png"] {
            #expect(FileManager.default.fileExists(atPath: path("maps/\(name)")), "\(name)")
        }
    }

    /// --profile prints a row per kernel with its work; --trace writes Chrome trace events with kernel shapes.
    @Test func profileAndTraceDescribeTheRun() throws {
        let result = try ConvLensProcess.run(["cam", "--input", digit, "--out", path("profiled.png"), "--profile",
                                              "--trace", path("trace.json")])
        #expect(result.status == 0, "\(result.error)")
        let matmul = result.output.split(separator: "\n").first { $0.hasPrefix("matmul_tiled") }
        #expect(matmul != nil, "\(result.output)")
        // launches, total ms, mean µs, share, GFLOP/s: the matrix products declare their FLOPs.
        let cells = matmul.map { $0.split(separator: " ", omittingEmptySubsequences: true) } ?? []
        #expect(cells.count >= 6 && Double(cells[5]) != nil, "\(matmul ?? "")")
        #expect(result.output.contains("program builds") && result.output.contains("idle gaps"), "\(result.output)")
        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("trace.json"))))
        let events = (trace as? [String: Any])?["traceEvents"] as? [[String: Any]] ?? []
        let kernels = events.filter { $0["cat"] as? String == "kernel" }
        // The first convolution: an implicit product over the padded 30 × 30 input on a CPU, else im2col and a
        // 16 × 784 × 9 product.
        let shapes = Set(kernels.compactMap { ($0["args"] as? [String: Any])?["shape"] as? String })
        #expect(shapes.contains("1×30×30 → 16×28×28, 3×3 s1×1") || shapes.contains("m 16 n 784 k 9"), "\(shapes)")
        #expect(kernels.allSatisfy { ($0["dur"] as? Double).map { $0 >= 0 } ?? false })
        try expectRefusal(["cam", "--input", digit, "--out", path("p.png"), "--backend", "cpu", "--profile"],
                          mentioning: "the cpu backend has none")
        #expect(!FileManager.default.fileExists(atPath: path("p.png")))
    }

    /// bench --json writes one record per workload with the documented fields.
    @Test func benchWritesRecords() throws {
        let cache = path("cache")
        let result = try ConvLensProcess.run(
            ["bench", "--suite", "ops", "--layer", "dw3x3", "--batches", "1", "--runs", "2", "--warmup", "1",
             "--json", path("bench.json"), "--profile"], environment: ["XDG_CACHE_HOME": cache])
        #expect(result.status == 0, "\(result.error)")
        // The profile covers what was timed: three passes × two runs, idle time counted inside them only.
        #expect(result.output.contains("(inside the 6 timed runs; warm-ups not recorded)"), "\(result.output)")
        let records = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("bench.json"))))
            as? [[String: Any]] ?? []
        let workloads = records.map { "\($0["workload"] ?? "") \($0["direction"] ?? "")" }
        #expect(workloads == ["peak.fma probe", "peak.copy probe", "mobilenetv2.dw3x3_144 forward",
                              "mobilenetv2.dw3x3_144 backward_input", "mobilenetv2.dw3x3_144 backward_weight"])
        for record in records {
            for field in ["batch", "median_ms", "min_ms", "max_ms", "device", "runs"] { #expect(record[field] != nil, "\(field)") }
            let (low, middle, high) = (record["min_ms"] as? Double ?? -1, record["median_ms"] as? Double ?? -1,
                                       record["max_ms"] as? Double ?? -1)
            #expect(0 <= low && low <= middle && middle <= high)
        }
        #expect((records.last?["gflops"] as? Double ?? 0) > 0)
        let peaks = try FileManager.default.contentsOfDirectory(atPath: "\(cache)/convlens")
        #expect(peaks.contains { $0.hasPrefix("peaks-") }, "\(peaks)")
    }
}
