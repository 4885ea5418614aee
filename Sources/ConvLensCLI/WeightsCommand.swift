import ArgumentParser
import Foundation
import ImageIO
import ModelGraph
import TensorOps
import Visualization

/// `convlens weights`: a convolution's kernels as a sheet.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Show a convolution's kernels: RGB tiles for 3 input channels, one tile per input channel otherwise.",
        discussion: "Values are normalized symmetrically around zero over the whole layer (mid-grey is zero) and "
            + "enlarged with nearest neighbour so 3×3 kernels stay visible. Folded BatchNormalization is included.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "A convolution: its node name or output value name.") var layer: String
    @Option(help: "The sheet to write (PNG).") var out: String

    func validate() throws {
        try RasterImage.requirePNGName(out)  // before any work, not after it
    }

    func run() throws {
        let graph = try modelOptions.load()
        let value = try graph.resolve(layer)
        guard let node = graph.nodes.first(where: { $0.output == value }), case .conv = node.operation,
            let weight = graph.constants[node.inputs[1]]
        else {
            throw CommandError("layer '\(layer)' is not a convolution; see `convlens info` for the Conv nodes")
        }
        let kernels = SheetTiles.kernels(weight)
        let (height, width) = (weight.shape[2], weight.shape[3])
        let tiles = kernels.planes.map { plane -> RasterImage in
            let bytes = plane.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
            return RasterImage(width: width, height: height, channels: kernels.color ? 3 : 1, pixels: bytes)
        }
        let columns = kernels.color || weight.shape[1] == 1 ? nil : weight.shape[1]
        try ContactSheet.render(tiles: tiles, labels: kernels.labels, columns: columns, minimumTileSize: 24)
            .writePNG(to: out)
        print("'\(node.name)' weight \(weight.shape): \(tiles.count) tiles, wrote \(out)")
    }
}
