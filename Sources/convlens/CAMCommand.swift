import ArgumentParser
import BackendParity
import Foundation
import ImageIO
import ModelGraph
import ReferenceBackend
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

    @Option(help: "A PNG or JPEG image, or a preprocessed .npy tensor.") var input: String
    @Option(help: ArgumentHelp("One of: \(CAMMethod.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var method = "gradcam"
    @Option(help: "Layer to explain (repeat to average several): an ONNX value or node name.") var layer: [String] = []
    @Option(name: .customLong("class"), help: "The class to explain (default: the top prediction).") var classIndex: Int?
    @Option(help: "jet, turbo, viridis or inferno.") var colormap = "jet"
    @Option(help: "Weight of the heat map over the image, 0–1.") var alpha: Float = 0.5
    @Option(help: "The picture to write (PNG).") var out: String
    @Option(help: "Also write the maps (N×H×W float32, after normalization and resizing).") var saveNpy: String?
    @Flag(help: "Replay the explanation on the CPU reference and print the drift of the final map.") var compareCpu = false

    func validate() throws {
        guard CAMMethod(rawValue: method) != nil else {
            throw ValidationError("--method must be one of \(CAMMethod.allCases.map(\.rawValue).joined(separator: ", ")), got '\(method)'")
        }
        guard let map = Colormap(rawValue: colormap), map != .gray, map != .diverging else {
            throw ValidationError("--colormap must be jet, turbo, viridis or inferno, got '\(colormap)'")
        }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1") }
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let preprocess = try preprocessing.resolve(for: graph)
        let tensor = try ModelInputs.tensor(from: input, preprocessing: preprocess)
        let method = CAMMethod(rawValue: self.method) ?? .gradCAM
        let start = Date()
        let mapper = try ClassActivationMapper(graph: graph, backend: backend, layers: layer, method: method, inputShape: tensor.shape)
        let layers = mapper.layers
        let result = try mapper.explain(try backend.upload(tensor), classes: classIndex.map { Array(repeating: $0, count: tensor.shape[0]) })
        let picture = try HeatMapPicture(colormap: Colormap(rawValue: colormap) ?? .jet, alpha: alpha)
            .render(maps: result.maps, over: tensor, preprocessing: preprocess, labels: result.classes.map(String.init),
                    backend: backend)
        let maps = try backend.download(result.maps)
        print("model: \(modelOptions.modelName); \(method.rawValue) on \(layers.map { "'\($0)'" }.joined(separator: ", ")); "
              + "backend: \(backend.name); " + String(format: "%.1f ms", Date().timeIntervalSince(start) * 1000))
        let labels = try ModelInputs.labels(for: graph, file: nil)
        for (image, (target, score)) in zip(result.classes, result.scores).enumerated() {
            let label = labels.flatMap { target < $0.count ? " (\($0[target]))" : nil } ?? ""
            print("image \(image): class \(target)\(label), score \(String(format: "%.4g", score))")
        }
        if compareCpu {
            try compareWithReference(graph: graph, tensor: tensor, layers: layers, method: method, classes: result.classes,
                                     maps: maps, backend: backend)
        }
        try picture.writePNG(to: out)
        print("wrote \(out)")
        if let saveNpy {
            try NPYFile.write(HostTensor(shape: [maps.shape[0], maps.shape[2], maps.shape[3]], values: maps.values), to: saveNpy)
            print("wrote \(saveNpy)")
        }
    }

    private func compareWithReference<B: Backend>(graph: Graph, tensor: HostTensor, layers: [String], method: CAMMethod,
                                                  classes: [Int], maps: HostTensor, backend: B) throws {
        guard !(backend is ReferenceBackend) else {
            print("--compare-cpu: this run already used the CPU reference")
            return
        }
        let reference = ReferenceBackend()
        let mapper = try ClassActivationMapper(graph: graph, backend: reference, layers: layers, method: method, inputShape: tensor.shape)
        let expected = try reference.download(try mapper.explain(try reference.upload(tensor), classes: classes).maps)
        let drift = ErrorMetrics(actual: maps.values, expected: expected.values)
        print(String(format: "drift of the map vs the CPU reference: max abs %.3e, rel L2 %.3e", drift.maxAbsolute,
                     drift.relativeL2))
    }
}
