/// Lays tiles out in a grid with a label under each: the montage of filter visualizations, feature maps and
/// weights. Tiles are enlarged by whole factors (nearest neighbour, so small kernels stay crisp) and sit on white.
public enum ContactSheet {
    /// The sheet for `tiles` (all the same size and channel count) with `labels[i]` under tile i.
    /// - Parameters:
    ///   - columns: tiles per row; by default as close to square as possible.
    ///   - minimumTileSize: tiles smaller than this are enlarged by the smallest whole factor that reaches it.
    public static func render(tiles: [RasterImage], labels: [String], columns: Int? = nil,
                              minimumTileSize: Int = 64) -> RasterImage {
        precondition(!tiles.isEmpty && tiles.count == labels.count, "one label per tile")
        let first = tiles[0]
        let channels = first.channels == 4 ? 3 : first.channels
        let factor = max(1, (minimumTileSize + max(first.width, first.height) - 1) / max(first.width, first.height))
        let (tileWidth, tileHeight) = (first.width * factor, first.height * factor)
        let textScale = max(1, min(3, tileWidth / 40))
        let (gap, labelHeight) = (4, PixelFont.glyphHeight * textScale + 4)
        let columns = columns ?? Int(Double(tiles.count).squareRoot().rounded(.up))
        let rows = (tiles.count + columns - 1) / columns
        let width = gap + columns * (tileWidth + gap), height = gap + rows * (tileHeight + labelHeight + gap)
        var sheet = RasterImage(
            width: width, height: height, channels: channels,
            pixels: [UInt8](repeating: 255, count: width * height * channels))

        for (index, tile) in tiles.enumerated() {
            let left = gap + (index % columns) * (tileWidth + gap)
            let top = gap + (index / columns) * (tileHeight + labelHeight + gap)
            for y in 0..<tileHeight {
                for x in 0..<tileWidth {
                    let source = ((y / factor) * tile.width + x / factor) * tile.channels
                    let target = ((top + y) * width + left + x) * channels
                    for channel in 0..<channels {
                        sheet.pixels[target + channel] = tile.pixels[source + min(channel, tile.channels - 1)]
                    }
                }
            }
            let label = labels[index]
            let textLeft = left + (tileWidth - PixelFont.width(of: label, scale: textScale)) / 2
            PixelFont.draw(label, into: &sheet, left: textLeft, top: top + tileHeight + 3, scale: textScale)
        }
        return sheet
    }
}
