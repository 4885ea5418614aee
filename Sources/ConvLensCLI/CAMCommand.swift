import ArgumentParser
import BackendParity
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
import TensorBoard
import TensorOps
import Visualization

/// `convlens cam`: where in the image the network looked to decide (Grad-CAM and its family).
struct CAMCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "cam",
        abstract: "Class activation maps (Grad-CAM and its family, Score-CAM, CAM, Eigen-CAM) over an image.",
        discussion: """
            Semantics follow pytorch-grad-cam: ReLU on the weighted sum, per-image min-max normalization, bilinear \
            resize with half-pixel centres to the input size; several --layer values are averaged. Default layer: \
            the last layer with spatial extent; default class: the top-1 prediction. Everything after the backward \
            pass — weights, sums, normalization, resizing, colouring, blending — runs in kernels.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessingOptions

    @Option(help: "A PNG or JPEG image, a preprocessed .npy tensor, or a folder of PNG and JPEG images.") var input: String
    @Option(help: ArgumentHelp("One of: \(CAMMethod.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var method = CAMMethod.gradCAM
    @Option(help: "Layer to explain (repeat to average several): an ONNX value or node name.") var layer: [String] = []
    @OptionGroup var layoutOptions: LayoutOptions
    @Option(name: .customLong("class"), parsing: .unconditional, help: "The class to explain (default: the top prediction).") var classIndex: Int?
    @Option(parsing: .unconditional, help: "Explain each image's N best classes, one map each.") var top = 1
    @Option(parsing: .unconditional, help: "Input images per batch (default: from the device's free memory).") var batch: Int?
    @Option(parsing: .unconditional, help: "Score-CAM, SS-CAM, IS-CAM: masked images per batched forward; Ablation-CAM: ablated copies per pass.")
    var maskBatch = 16
    @Option(parsing: .unconditional, help: "SS-CAM, Smooth Grad-CAM++: noisy samples (default 35, 4); IS-CAM: integration steps (default 10), as torch-cam.")
    var samples: Int?
    @Option(parsing: .unconditional, help: "SS-CAM: σ of the noise added to each normalized mask (default 2); Smooth Grad-CAM++: to the input (0.3).")
    var noise: Float?
    @Option(parsing: .unconditional, help: "SS-CAM, Smooth Grad-CAM++: the noise's seed (the same seed gives the same bytes).") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Finer-CAM: α, how strongly the 3 most similar classes' scores are subtracted.")
    var comparisonStrength: Double = 1
    @Option(help: ArgumentHelp("Also measure faithfulness: deletion, insertion (AUC, 20 steps, zero baseline) or drop-increase (average drop, increase in confidence) as torch-cam does, on softmax scores; road (pytorch-grad-cam's ROAD combined score, percentiles 10–90, imputation noise 0.01, seeded). Repeatable.", valueName: "name"))
    var metric: [CAMMetric] = []
    @Option(help: ArgumentHelp("randomize: re-initialize the layers' weights from the output back, one more at a time, and print the rank correlation of each map with the original (Adebayo et al.'s cascading randomization).", valueName: "test"))
    var sanity: SanityTest?
    @Flag(help: "Average the maps of the image mirrored or not and scaled by 0.9, 1 and 1.1 (pytorch-grad-cam's aug_smooth).")
    var augSmooth = false
    @Option(help: "jet, turbo, viridis or inferno.") var colormap = "jet"
    @Option(parsing: .unconditional, help: "Weight of the heat map over the image, 0–1.") var alpha: Float = 0.5
    @Option(help: "The picture to write (PNG); for a folder input, a folder to write one picture per image into.")
    var out: String
    @Option(help: "Also write the maps (N×H×W float32, after normalization and resizing), in the order printed.")
    var saveNpy: String?
    @Flag(help: "Replay the explanation on the CPU reference and print the drift of the final map.") var compareCpu = false
    @Option(help: ArgumentHelp("Also log every overlay to this TensorBoard folder as image summaries, one step per image explained.", valueName: "dir"))
    var tensorboard: String?

    func validate() throws {
        var inputIsFolder: ObjCBool = false  // then --out is the folder the pictures go to
        if !(FileManager.default.fileExists(atPath: input, isDirectory: &inputIsFolder) && inputIsFolder.boolValue) {
            try RasterImage.requirePNGName(out)  // before any work, not after it
        }
        _ = try HeatMapPicture(colormapName: colormap, alpha: alpha)
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if top > 1 && classIndex != nil { throw ValidationError("give --class or --top, not both") }
        if let batch, !(1...4096).contains(batch) { throw ValidationError("--batch must be from 1 to 4096, got \(batch)") }
        if !(1...4096).contains(maskBatch) { throw ValidationError("--mask-batch must be from 1 to 4096, got \(maskBatch)") }
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let preprocess = try preprocessing.resolve(for: graph)
        let inputs = try ImageFolder(path: input, preprocessing: preprocess)
        let first = try inputs.firstTensor()
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: layer, method: method,
                                               inputShape: first.shape, layout: layoutOptions.layout,
                                               grid: try layoutOptions.parsedGrid())
        mapper.batch = maskBatch
        mapper.sampling = try CAMSampling(samples: samples, noise: noise, seed: seed).validated()
        guard comparisonStrength.isFinite else {
            throw CommandError("--comparison-strength must be a finite number, got \(comparisonStrength)")
        }
        mapper.finerTarget = FinerCAMTarget(comparisonStrength: comparisonStrength)
        let batchSize = batch ?? ClassActivationMapper.batchSize(graph: graph, imageShape: first.shape, backend: backend)
        let described = method == .fullGrad ? "the input and \(mapper.layers.count) layers with a bias"
            : mapper.layers.map { "'\($0)'" }.joined(separator: ", ")
        print("model: \(modelOptions.modelName); \(method.rawValue) on \(described); "
              + "backend: \(backend.name); \(inputs.files.count) file(s), batches of \(batchSize)")
        if inputs.isFolder { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }

        let settings = CAMBatchSettings(classIndex: classIndex, top: top, augSmooth: augSmooth, metrics: metric,
                                        randomizationTest: sanity == .randomize)
        let labels = try ModelInputs.labels(for: graph, file: nil)
        let picture = try HeatMapPicture(colormapName: colormap, alpha: alpha)
        var savedMaps: [Float] = [], mapSize: [Int] = [], tiles: [RasterImage] = [], tileLabels: [String] = []
        var faithfulness: [CAMFaithfulness] = [], faithfulnessNames: [String] = [], roads: [ROADResult] = []
        let start = Date()
        var explained = 0
        let log = try tensorboard.map { try EventWriter(directory: $0) }
        var logged: [String: Int] = [:]  // images logged per tag: the next one's step
        let failures = try inputs.forEachBatch(of: batchSize) { names, tensor in
            explained += tensor.shape[0]
            for explanation in try mapper.explainBatch(tensor, settings: settings) {
                let result = explanation.result
                try requireFinite(explanation.maps, "class activation map", input: names.first ?? input)
                let rendered = try picture.tiles(maps: result.maps, over: tensor, preprocessing: preprocess, backend: backend)
                for (index, (target, score)) in zip(result.classes, result.scores).enumerated() {
                    let label = labels.flatMap { target < $0.count ? " (\($0[target]))" : nil } ?? ""
                    let name = index < names.count ? names[index] : "\(names[0])[\(index)]"
                    print("\(name): class \(target)\(label), score \(String(format: "%.4g", score))")
                    // One tag per method and rank; each tag's step slider walks through the images in input order.
                    let tag = "cam/\(method.rawValue)" + (top > 1 ? "/top\(explanation.rank + 1)" : "")
                    try log?.images([(tag, rendered[index])], step: logged[tag, default: 0])
                    logged[tag, default: 0] += 1
                    if inputs.isFolder {
                        let stem = ((name as NSString).deletingPathExtension as NSString).lastPathComponent
                        let file = (out as NSString).appendingPathComponent(
                            top > 1 ? "\(stem)_top\(explanation.rank + 1).png" : "\(stem).png")
                        try ContactSheet.render(tiles: [rendered[index]], labels: [String(target)], minimumTileSize: 224)
                            .writePNG(to: file)
                    } else {
                        tiles.append(rendered[index])
                        tileLabels.append(String(target))
                    }
                }
                for step in explanation.randomization {
                    print(String(format: "randomized from the output through '%@': rank correlation with the original map %.4f",
                                 step.layer, step.rankCorrelation))
                }
                roads += explanation.roads
                faithfulness += explanation.faithfulness
                if !metric.isEmpty {
                    faithfulnessNames += names.count == result.classes.count ? names : result.classes.indices.map { "image \($0)" }
                }
                if saveNpy != nil {  // kept only when asked for: a folder's maps would otherwise pile up (3 KB an image)
                    savedMaps += explanation.maps.values
                    mapSize = [explanation.maps.shape[2], explanation.maps.shape[3]]
                }
                if compareCpu {
                    try printDrift(of: explanation.maps, mapper: mapper, graph: graph, input: tensor, classes: result.classes,
                                   backend: backend)
                }
            }
        }
        if let log { print("logged to \(log.path)") }
        report(faithfulness, roads: roads, names: faithfulnessNames)
        print(String(format: "%.1f ms per image", Date().timeIntervalSince(start) * 1000 / Double(max(explained, 1))))
        if !inputs.isFolder {
            try ContactSheet.render(tiles: tiles, labels: tileLabels, minimumTileSize: 224).writePNG(to: out)
        }
        print("wrote \(out)")
        if let saveNpy {
            try NPYFile.write(HostTensor(shape: TensorShape([savedMaps.count / mapSize.reduce(1, *)] + mapSize), values: savedMaps),
                              to: saveNpy)
            print("wrote \(saveNpy)")
        }
        if !failures.isEmpty {
            throw CommandError("\(failures.count) of \(inputs.files.count) images could not be read (named above)")
        }
    }

    /// Prints the chosen faithfulness measures per image and their means.
    private func report(_ scores: [CAMFaithfulness], roads: [ROADResult], names: [String]) {
        guard !metric.isEmpty else { return }
        func line(_ name: String, _ s: [CAMFaithfulness], _ r: [ROADResult]) -> String {
            var parts: [String] = []
            let count = Double(max(s.count, 1))
            if metric.contains(.deletion) { parts.append(String(format: "deletion AUC %.4f", s.map(\.deletionAUC).reduce(0, +) / count)) }
            if metric.contains(.insertion) { parts.append(String(format: "insertion AUC %.4f", s.map(\.insertionAUC).reduce(0, +) / count)) }
            if metric.contains(.dropIncrease) {
                parts.append(String(format: "average drop %.4f, increase in confidence %.4f", s.map(\.drop).reduce(0, +) / count,
                                    Double(s.filter(\.increase).count) / count))
            }
            if metric.contains(.road) {
                parts.append(String(format: "ROAD %.4f", r.map(\.combined).reduce(0, +) / Double(max(r.count, 1))))
            }
            return "\(name): " + parts.joined(separator: ", ")
        }
        for (index, name) in names.enumerated() {
            print(line(name, index < scores.count ? [scores[index]] : [], index < roads.count ? [roads[index]] : []))
        }
        if names.count > 1 { print(line("mean over \(names.count) images", scores, roads)) }
    }

    /// `--compare-cpu`: the drift of `maps` from the same explanation on the CPU reference.
    private func printDrift<B: Backend>(of maps: HostTensor, mapper: ClassActivationMapper<B>, graph: Graph,
                                        input: HostTensor, classes: [Int], backend: B) throws {
        guard !(backend is ReferenceBackend) else {
            print("--compare-cpu: this run already used the CPU reference")
            return
        }
        let expected = try mapper.replay(on: ReferenceBackend(), graph: graph, input: input, classes: classes)
        let drift = ErrorMetrics(actual: maps.values, expected: expected.values)
        print(String(format: "drift of the map vs the CPU reference: max abs %.3e, rel L2 %.3e", drift.maxAbsolute,
                     drift.relativeL2))
    }
}

/// `--sanity`: the model-randomization test of Adebayo et al. (the only one so far).
enum SanityTest: String, ExpressibleByArgument, CaseIterable {
    case randomize
}

extension CAMMethod: ExpressibleByArgument {}
extension CAMMetric: ExpressibleByArgument {}

