import ArgumentParser
import FileAccess
import Foundation
import ImageIO
import ModelGraph
import TensorBoard
import TensorOps
import Visualization

/// `convlens embed`: a t-SNE (or PCA) map of what a layer makes of a set of images.
struct EmbedCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "A t-SNE or PCA map of a layer's features over a folder of images, coloured by label.",
        discussion: """
            The images run to --layer in batches on the device (sized from its memory); spatial features are \
            global-average-pooled unless --flatten. t-SNE runs on the device as scikit-learn defines it: \
            perplexity-calibrated affinities over 3·perplexity nearest neighbours, PCA initialization, 250 \
            iterations of early exaggeration, then momentum descent with gains, with exact O(N²) forces. Labels come \
            from class subfolders, --labels (one per line, in image order), or the model's predictions.
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable { case tsne, pca }

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessingOptions

    @Option(help: "A folder of PNG and JPEG images (or of class subfolders), or a preprocessed N×C×H×W .npy batch.")
    var input: String
    @Option(help: "The layer whose features are embedded: an ONNX value or node name.") var layer: String
    @Flag(help: "Flatten spatial features instead of global-average-pooling them.") var flatten = false
    @Option(help: "tsne or pca.") var method = Method.tsne
    @Option(parsing: .unconditional, help: "t-SNE: the effective number of neighbours (1–100).") var perplexity = 30.0
    @Option(parsing: .unconditional, help: "t-SNE: iterations, the first 250 with early exaggeration.") var iterations = 1000
    @Option(parsing: .unconditional, help: "t-SNE: the learning rate (default: scikit-learn's auto, max(N/48, 50)).")
    var learningRate: Float?
    @Option(help: "t-SNE's repulsion: exact (all pairs), barnes-hut (a quadtree, --theta), or auto (exact below 10,000 points).")
    var forces = TSNESettings.Forces.auto
    @Option(parsing: .unconditional, help: "Barnes-Hut: a cell is one body when its side is below theta × its distance.")
    var theta: Float = 0.5
    @Option(help: "A text file with one label per line, in image order (folder name order, or .npy rows).") var labels: String?
    @Option(parsing: .unconditional, help: "Images per batched forward (default: sized from device memory).") var batch: Int?
    @Flag(help: "Draw the images themselves at their positions.") var thumbnails = false
    @Option(parsing: .unconditional, help: "The thumbnails' longer side in pixels.") var thumbnailSize = 28
    @Option(parsing: .unconditional, help: "The map's side in pixels.") var size = 1024
    @Option(help: "The map to write (PNG).") var out: String
    @Option(help: ArgumentHelp("Also write STEM-map.npy (N×2) and STEM-features.npy (N×D).", valueName: "stem"))
    var saveNpy: String?
    @Option(help: ArgumentHelp("Also write a TensorBoard Projector folder (features, map, metadata, sprite).", valueName: "dir"))
    var projector: String?
    @Option(help: "The Projector's tensor files: binary (float32) or tsv.") var projectorFormat = ProjectorExport.TensorFormat.binary
    @Option(help: ArgumentHelp("Also write the Projector folder with an event log (KL divergence, the map) for TensorBoard.",
                               valueName: "dir"))
    var tensorboard: String?

    private var settings: TSNESettings {
        var settings = TSNESettings()
        (settings.perplexity, settings.iterations, settings.learningRate) = (perplexity, iterations, learningRate)
        (settings.forces, settings.theta) = (forces, theta)
        return settings
    }

    func validate() throws {
        try RasterImage.requirePNGName(out)  // before any work, not after it
        if method == .tsne, let problem = settings.problem(points: nil) { throw CommandError(problem) }
        if let batch, !(1...4096).contains(batch) { throw CommandError("--batch must be from 1 to 4096, got \(batch)") }
        if !(128...8192).contains(size) { throw CommandError("--size must be from 128 to 8192, got \(size)") }
        if !(8...256).contains(thumbnailSize) { throw CommandError("--thumbnail-size must be from 8 to 256, got \(thumbnailSize)") }
        if projector != nil && tensorboard != nil { throw CommandError("give --projector or --tensorboard (which includes it), not both") }
        for folder in [projector, tensorboard].compactMap({ $0 }) { try ProjectorExport.requireWritable(folder) }
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let preprocess = try preprocessing.resolve(for: graph)
        let inputs = try ImageFolder(path: input, preprocessing: preprocess)
        let first = try inputs.firstTensor()
        let value = try graph.resolve(layer)
        let imageShape = TensorShape([1] + first.shape.dimensions.dropFirst())
        if let shape = try graph.inferShapes(input: imageShape, through: value)[value] {
            if case .failure(let problem) = LayerFeatures<B>.dimensions(of: shape, layer: layer, flatten: flatten) {
                throw CommandError(problem.message)
            }
        }
        // What the image count alone decides is refused before the feature pass (readable images are never more).
        let total = inputs.isFolder ? inputs.files.count : first.shape[0]
        if method == .tsne, let problem = settings.problem(points: total) { throw CommandError(problem) }
        let givenLabels = try labels.map(Self.readLabels)
        if let givenLabels, givenLabels.count > total {
            throw CommandError("--labels has \(givenLabels.count) labels for \(total) images; give one per line, in image order")
        }
        let batchSize = batch ?? Self.batchSize(graph: graph, imageShape: imageShape, backend: backend)
        print("model: \(modelOptions.modelName); layer '\(layer)'\(flatten ? " flattened" : ""); \(method.rawValue); "
              + "batch \(batchSize); backend: \(backend.name)")

        // The feature pass, keeping each image's name and (for pictures of them) a thumbnail.
        let features = try LayerFeatures(graph: graph, backend: backend, layer: layer, flatten: flatten)
        var names: [String] = [], pictures: [RasterImage] = []
        let keepsPictures = thumbnails || projector != nil || tensorboard != nil
        let progress = ProgressReporter()
        let failures = try inputs.forEachBatch(of: batchSize) { batchNames, tensor in
            names += inputs.isFolder ? batchNames : (0..<tensor.shape[0]).map { "\(batchNames[0])[\(names.count + $0)]" }
            if keepsPictures {
                pictures += (0..<tensor.shape[0]).map {
                    let image = preprocess.image(from: tensor, index: $0)
                    return image.scaled(toLongerSide: min(64, max(image.width, image.height)))  // bounded memory
                }
            }
            try features.observe(tensor)
            progress.report(step: names.count, steps: total, detail: "images through '\(layer)'")
        }
        let n = names.count
        guard n >= 3 else { throw CommandError("embedding needs at least 3 readable images; '\(input)' gave \(n)") }
        if method == .tsne, let problem = settings.problem(points: n) { throw CommandError(problem) }
        let unreadable = Set(failures.map(\.path))
        let labelling = try Labelling(given: givenLabels, folderClasses: inputs.classes, files: inputs.files,
                                      readable: { !unreadable.contains($0) }, predictions: features.predictions, count: n)
        print("\(n) images, \(features.dimensions) features each; labels: \(labelling.source)")

        let pca = try PrincipalComponents(features: features.values, points: n, count: 2, on: backend)
        let scores = pca.project(features.values, points: n)
        print("PCA: " + pca.explainedRatios.enumerated().map { String(format: "PC%d %.1f %%", $0 + 1, $1 * 100) }
            .joined(separator: ", ") + " of the variance")
        var map = scores, divergences: [(iteration: Int, value: Double)] = [], iterationsRun = 0
        if method == .tsne {
            let embedder = TSNEEmbedder(backend: backend, settings: settings)
            let start = Date()
            let affinities = try embedder.affinities(features: try backend.upload(
                HostTensor(shape: [n, features.dimensions], values: features.values)))
            print(String(format: "affinities: %d neighbours each, %d entries, %.2f s", settings.neighbors(points: n),
                         affinities.values.count, Date().timeIntervalSince(start)))
            let initial = TSNESettings.initialMap(principalScores: scores)
            let descent = ProgressReporter()
            var latest = Double.nan
            let result = try embedder.embed(affinities, initial: initial) { step in
                if let divergence = step.divergence {
                    latest = divergence
                    divergences.append((step.iteration, divergence))
                }
                if step.divergence != nil || step.iteration == step.total {
                    descent.report(step: step.iteration, steps: step.total, detail: String(format: "KL %.4f", latest))
                }
            }
            (map, iterationsRun) = (result.map, result.iterations)
            if result.iterations < settings.iterations {  // the bar stopped short of its end: close its line
                print("\nstopped after \(result.iterations) iterations: the KL divergence had not fallen in "
                      + "\(settings.iterationsWithoutProgress)")
            }
            print(String(format: "t-SNE: %d iterations, KL divergence %.4f, %.2f s", result.iterations, result.divergence,
                         Date().timeIntervalSince(start)))
        }
        guard map.allSatisfy(\.isFinite) else { throw CommandError("the \(method.rawValue) map is not finite") }

        let points = stride(from: 0, to: map.count, by: 2).map { (x: map[$0], y: map[$0 + 1]) }
        let picture = ScatterPlot.render(points: points, classes: labelling.classes, classNames: labelling.names,
                                         thumbnails: thumbnails ? pictures : nil, size: size, thumbnailSize: thumbnailSize,
                                         title: "\(method == .tsne ? "t-SNE" : "PCA") of \(layer)")
        try picture.writePNG(to: out)
        print("wrote \(out)")
        if let saveNpy {
            try NPYFile.write(HostTensor(shape: [n, 2], values: map), to: saveNpy + "-map.npy")
            try NPYFile.write(HostTensor(shape: [n, features.dimensions], values: features.values), to: saveNpy + "-features.npy")
            print("wrote \(saveNpy)-map.npy, \(saveNpy)-features.npy")
        }
        if let folder = projector ?? tensorboard {
            let export = ProjectorExport(
                embeddings: [.init(name: "\(layer) features", rows: n, columns: features.dimensions, values: features.values),
                             .init(name: "\(method == .tsne ? "t-SNE" : "PCA") map", rows: n, columns: 2, values: map)],
                metadata: [("label", labelling.labels), ("prediction", features.predictions.map(String.init)), ("file", names)],
                images: pictures, format: projectorFormat)
            try export.write(to: folder) { staging in
                guard tensorboard != nil else { return }
                let log = try EventWriter(directory: staging)
                for (iteration, divergence) in divergences {
                    try log.scalars([("embed/kl_divergence", Float(divergence))], step: iteration)
                }
                try log.images([("embed/map", picture)], step: iterationsRun)
            }
            print("wrote \(folder) (tensorboard --logdir \(folder), then the Projector tab)")
        }
        if !failures.isEmpty {
            throw CommandError("\(failures.count) of \(inputs.files.count) images could not be read (named above)")
        }
    }

    /// One label per line; a trailing empty line is not a label.
    private static func readLabels(_ path: String) throws -> [String] {
        let text = String(decoding: try FileAccess.read(path, limit: 64 << 20), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw CommandError("--labels \(path): holds no labels") }
        return lines
    }

    /// Images per batch from the device's memory: every activation of one image twice over, within a quarter of
    /// the device; at most 256. 64 without a memory figure.
    static func batchSize<B: Backend>(graph: Graph, imageShape: TensorShape, backend: B) -> Int {
        graph.imagesFitting(capacity: backend.memoryCapacity, imageShape: imageShape, copies: 2, share: 4, limit: 256,
                            fallback: 64)
    }
}

extension ProjectorExport.TensorFormat: ExpressibleByArgument {}
extension TSNESettings.Forces: ExpressibleByArgument {}
