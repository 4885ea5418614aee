import ArgumentParser
import TensorOps
import Visualization

extension ActivationLayout.Choice: ExpressibleByArgument {}

/// `--layout` and `--grid`: how a layer's activation is laid out as N×C×h×w (transformer tokens on their grid).
struct LayoutOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "How the layer lays out positions: auto (N×C×h×w for rank 4; tokens N×T×C on a square grid for rank 3, a "
            + "class token first when T − 1 is square), nchw, nhwc (Swin), class-token (ViT), tokens.",
        valueName: "layout"))
    var layout = ActivationLayout.Choice.auto

    @Option(help: ArgumentHelp("The token grid as HxW when it is not square.", valueName: "HxW"))
    var grid: String?

    func validate() throws { _ = try parsedGrid() }

    /// `--grid` as (height, width), nil when not given.
    func parsedGrid() throws -> (height: Int, width: Int)? {
        guard let grid else { return nil }
        let parts = grid.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ (1...65_536).contains($0) }) else {
            throw ValidationError("--grid must be HxW with positive sizes, e.g. 14x14; got '\(grid)'")
        }
        return (parts[0], parts[1])
    }

    /// The layout of `layer`'s activation of `shape`.
    func resolve(shape: TensorShape, layer: String) throws -> ActivationLayout {
        try ActivationLayout.resolve(layout, grid: try parsedGrid(), shape: shape, layer: layer)
    }
}
