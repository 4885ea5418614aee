import ArgumentParser
import Foundation
import ImageIO
import ModelGraph
import TensorOps
import Visualization

/// `convlens projections`: Zeiler & Fergus' sheets — what in a set of images drives each channel most.
struct ProjectionsCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Zeiler & Fergus projections: each channel's top activations over a folder, projected back to pixels.",
        discussion: """
            The images run to --layer in batches on the device while a running top-k per channel keeps the \
            strongest activations (at most --per-image from one image). Each is then projected back to the input by \
            a backward pass from that single activation with deconvnet ReLUs (or guided backpropagation's) and \
            cropped to the layer's receptive field at that position, beside the image patch it saw. Left grid: the \
            projections (mid-grey is zero), labelled by activation; right grid: the patches, labelled by image number \
            (printed with the file names).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessingOptions

    @Option(help: "A folder of PNG and JPEG images (or one image, or a preprocessed N×C×H×W .npy batch).") var input: String
    @Option(help: "The layer: an ONNX value or node name with spatial extent.") var layer: String
    @Option(help: "Channels: all, or indices and ranges such as 0-15 or 3,5,8-11.")
    var channels = ChannelSelection(argument: "0-15")!
    @Option(parsing: .unconditional, help: "Activations shown per channel.") var top = 9
    @Option(parsing: .unconditional, help: "At most this many of a channel's activations from one image.") var perImage = 1
    @Option(help: "deconvnet (Zeiler & Fergus) or guided-backprop.") var method = ProjectionRule.deconvnet
    @Option(parsing: .unconditional, help: "Images per batched forward, and projections per batched backward.") var batch = 16
    @Option(help: "The sheet to write (PNG).") var out: String

    func validate() throws {
        try RasterImage.requirePNGName(out)  // before any work, not after it
        // Refused before the model loads; the projector checks the same rule for its other callers.
        if let problem = ProjectionCounts.problem(top: top, perImage: perImage) { throw CommandError(problem) }
        if !(1...4096).contains(batch) { throw CommandError("--batch must be from 1 to 4096, got \(batch)") }
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let preprocess = try preprocessing.resolve(for: graph)
        let inputs = try ImageFolder(path: input, preprocessing: preprocess)
        let first = try inputs.firstTensor()
        let value = try graph.resolve(layer)
        let layerShape = try graph.inferShapes(input: TensorShape([1] + first.shape.dimensions.dropFirst()), through: value)[value]
        let chosen = try channels.resolve(count: layerShape.flatMap { $0.rank == 4 ? $0[1] : nil } ?? 0, limit: 256)
        if let layerShape { try FeatureProjector<B>.requireSpatial(layerShape, layer: layer, channels: chosen) }
        let projector = try FeatureProjector(graph: graph, backend: backend, layer: layer, channels: chosen, top: top,
                                             perImage: perImage, rule: method)
        let field = try projector.receptiveField(graph: graph, inputShape: first.shape)
        print("model: \(modelOptions.modelName); layer '\(layer)', \(chosen.count) channels, receptive field "
              + "\(field.size.height)×\(field.size.width) px every \(field.stride.height) px; backend: \(backend.name)")

        // Where each observed image came from (a file, and the row of a .npy batch), to load it again to project.
        var sources: [(file: String, row: Int)] = []
        let start = Date()
        let failures = try inputs.forEachBatch(of: batch) { names, tensor in
            let files = inputs.isFolder ? names.map { (input as NSString).appendingPathComponent($0) } : [input]
            sources += inputs.isFolder ? files.map { ($0, 0) } : (0..<tensor.shape[0]).map { (input, $0) }
            try projector.observe(tensor)
        }
        guard projector.imagesSeen > 0 else {
            throw CommandError("no readable image among the \(inputs.files.count) in '\(input)'")
        }
        try projector.requireEnoughCandidates()
        print(String(format: "ranked %d image(s) in %.1f s", projector.imagesSeen, Date().timeIntervalSince(start)))

        var images: [Int: HostTensor] = [:], loaded: [String: HostTensor] = [:]
        for index in Set(projector.best.flatMap { $0.map(\.image) }) {
            let (file, row) = sources[index]
            let tensor = try loaded[file] ?? inputs.tensor(file)
            loaded[file] = tensor
            let size = tensor.shape.count / tensor.shape[0]
            images[index] = HostTensor(shape: TensorShape([1] + tensor.shape.dimensions.dropFirst()),
                                       values: Array(tensor.values[(row * size)..<((row + 1) * size)]))
        }
        let units = zip(chosen, projector.best).flatMap { channel, list in list.map { (channel: channel, activation: $0) } }
        let projections = try projector.project(units, images: images, batch: batch)
        for projection in projections { try requireFinite(projection, "projection", input: input) }

        var entries: [[ProjectionSheet.Entry]] = [], next = 0
        for (channel, list) in zip(chosen, projector.best) {
            var row: [ProjectionSheet.Entry] = []
            for activation in list {
                guard let image = images[activation.image] else { continue }
                let box = PixelBox(field: field, y: activation.y, x: activation.x, imageHeight: image.shape[2],
                                   imageWidth: image.shape[3])
                row.append(ProjectionSheet.Entry(
                    projection: ProjectionSheet.projectionTile(projections[next], box: box),
                    patch: ProjectionSheet.patchTile(preprocess.image(from: image, index: 0), box: box),
                    projectionLabel: String(format: "%.2f", activation.value), patchLabel: String(activation.image)))
                next += 1
            }
            entries.append(row)
            let described = list.map { String(format: "%.3g %@ (%d,%d)", $0.value, Self.name(sources[$0.image]), $0.y, $0.x) }
            print("channel \(channel): " + described.joined(separator: ", "))
        }
        try ProjectionSheet.render(channels: chosen, entries: entries).writePNG(to: out)
        print("wrote \(out)")
        if !failures.isEmpty {
            throw CommandError("\(failures.count) of \(inputs.files.count) images could not be read (named above)")
        }
    }

    /// A source as printed: the file name, and the row for a batch file.
    private static func name(_ source: (file: String, row: Int)) -> String {
        let file = (source.file as NSString).lastPathComponent
        return source.file.hasSuffix(".npy") ? "\(file)[\(source.row)]" : file
    }
}

extension ProjectionRule: ExpressibleByArgument {}
