import ArgumentParser
import Foundation
import ImageIO
import ModelGraph
import TensorOps
import Visualization

/// `convlens features`: every channel of one layer's activation for one image, as a sheet.
struct FeaturesCommand: BackendCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Show every channel of a layer's activation for one image (each tile normalized on its own).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessingOptions

    @Option(help: "A PNG or JPEG image, or a preprocessed .npy tensor.") var input: String
    @Option(help: "Layer to show: an ONNX value or node name (see `convlens info`).") var layer: String?
    @OptionGroup var layoutOptions: LayoutOptions
    @Option(help: "The sheet to write (PNG).") var out: String?
    @Option(help: "gray, viridis, inferno, turbo, jet.") var colormap = "viridis"
    @Flag(help: "Print, for every layer, the fraction of zero activations and the mean activation.") var stats = false

    func validate() throws {
        if let out { try RasterImage.requirePNGName(out) }  // before any work, not after it
        if Colormap(rawValue: colormap) == nil {
            throw ValidationError("--colormap must be one of \(Colormap.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if out == nil && !stats { throw ValidationError("give --out FILE.png, --stats, or both") }
        if out != nil && layer == nil { throw ValidationError("--out needs --layer") }
    }

    func run<B: Backend>(on backend: B) throws {
        let graph = try modelOptions.load()
        let tensor = try ModelInputs.tensor(from: input, preprocessing: try preprocessing.resolve(for: graph))
        let executor = try GraphExecutor(graph: graph, backend: backend)
        try executor.forward(tensor)
        if stats { try printStatistics(executor) }
        guard let out, let layer else { return }
        let value = try executor.value(layer)
        guard value.shape.rank == 4 || value.shape.rank == 3 else {
            throw CommandError("layer '\(layer)' has no spatial extent (shape \(value.shape))")
        }
        let layout = try layoutOptions.resolve(shape: value.shape, layer: layer)
        let activation = try backend.download(try layout.spatial(value, on: backend))
        try executor.requireFinite(activation)  // a NaN drawn as a colour would look like a feature; name its node
        let map = Colormap(rawValue: colormap) ?? .viridis
        let tiles = SheetTiles.featureMaps(activation).map {
            map.image(values: $0, width: activation.shape[3], height: activation.shape[2])
        }
        try ContactSheet.render(tiles: tiles, labels: tiles.indices.map(String.init)).writePNG(to: out)
        print("layer '\(layer)' \(value.shape)\(layout == .nchw ? "" : " (\(layout), shown as \(activation.shape))"): "
              + "wrote \(out)")
    }

    private func printStatistics<B: Backend>(_ executor: GraphExecutor<B>) throws {
        var rows: [[String]] = []
        for node in executor.graph.nodes {
            let activation = try executor.backend.download(try executor.value(node.output))
            let (zeros, mean) = SheetTiles.statistics(activation)
            rows.append([node.name, node.opType, activation.shape.description, String(format: "%.1f%%", 100 * zeros),
                         String(format: "%.4g", mean)])
        }
        let table = TextTable(
            columns: [.init("node"), .init("op"), .init("shape"), .init("zeros", alignRight: true),
                      .init("mean", alignRight: true)], fitting: rows)
        table.printHeader()
        rows.forEach(table.printRow)
    }
}
