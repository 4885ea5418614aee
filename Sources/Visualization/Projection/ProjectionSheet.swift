import ImageIO
import ModelGraph
import TensorOps

/// A box of input pixels: what one projection tile and its image patch show.
public struct PixelBox: Hashable, Sendable {
    public var top: Int, left: Int, height: Int, width: Int

    public init(top: Int, left: Int, height: Int, width: Int) {
        (self.top, self.left, self.height, self.width) = (top, left, height, width)
    }

    /// The window `field` puts behind position (`y`, `x`), no larger than the image and moved inside it where it
    /// pokes out into padding, so every tile of a sheet has the same size and shows only real pixels.
    public init(field: ReceptiveField, y: Int, x: Int, imageHeight: Int, imageWidth: Int) {
        let window = field.window(y: y, x: x)
        height = min(window.size.height, imageHeight)
        width = min(window.size.width, imageWidth)
        top = min(max(window.top, 0), imageHeight - height)
        left = min(max(window.left, 0), imageWidth - width)
    }
}

/// Zeiler & Fergus' sheets: per channel, a grid of its top activations' projections beside a grid of the image
/// patches that caused them, the channels' blocks laid out in rows.
public enum ProjectionSheet {
    /// Channel `channel`'s values of `tensor` (1×C×H×W) inside `box`.
    private static func crop(_ tensor: HostTensor, channel: Int, _ box: PixelBox) -> [Float] {
        let (height, width) = (tensor.shape[2], tensor.shape[3])
        let base = channel * height * width
        return (box.top..<(box.top + box.height)).flatMap { y in
            (box.left..<(box.left + box.width)).map { x in tensor.values[base + y * width + x] }
        }
    }

    /// A projection (1×C×H×W, input space) inside `box` as a picture: zero is mid-grey and the box's 99th
    /// percentile of magnitude reaches black or white (brighter values clip), one scale for all channels so colours
    /// keep their balance. Scaling by the largest value instead leaves most tiles flat grey: a projection's energy
    /// gathers in a few pixels at the centre of its window.
    public static func projectionTile(_ projection: HostTensor, box: PixelBox) -> RasterImage {
        let channels = projection.shape[1]
        let planes = (0..<channels).map { crop(projection, channel: $0, box) }
        let magnitudes = planes.flatMap { $0 }.map(abs).sorted()
        let scale: Float = magnitudes.isEmpty ? 0 : {
            let level = magnitudes[min(magnitudes.count - 1, Int(0.99 * Double(magnitudes.count - 1)))]
            let largest = magnitudes[magnitudes.count - 1]
            return level > 0 ? 0.5 / level : (largest > 0 ? 0.5 / largest : 0)
        }()
        var pixels = [UInt8](repeating: 0, count: box.height * box.width * channels)
        for (channel, plane) in planes.enumerated() {
            for (offset, value) in plane.enumerated() {
                pixels[offset * channels + channel] = UInt8((min(max(0.5 + value * scale, 0), 1) * 255).rounded())
            }
        }
        return RasterImage(width: box.width, height: box.height, channels: channels, pixels: pixels)
    }

    /// The pixels of `image` inside `box`.
    public static func patchTile(_ image: RasterImage, box: PixelBox) -> RasterImage {
        let channels = image.channels
        var pixels: [UInt8] = []
        pixels.reserveCapacity(box.height * box.width * channels)
        for y in box.top..<(box.top + box.height) {
            let row = (y * image.width + box.left) * channels
            pixels += image.pixels[row..<(row + box.width * channels)]
        }
        return RasterImage(width: box.width, height: box.height, channels: channels, pixels: pixels)
    }

    /// One tile pair: the projection, the patch, and the labels under them.
    public struct Entry: Sendable {
        public var projection: RasterImage, patch: RasterImage
        public var projectionLabel: String, patchLabel: String

        public init(projection: RasterImage, patch: RasterImage, projectionLabel: String, patchLabel: String) {
            (self.projection, self.patch, self.projectionLabel, self.patchLabel) = (projection, patch, projectionLabel, patchLabel)
        }
    }

    /// The sheet: for each channel (labelled `channels[i]`) its entries' projections in a near-square grid, and
    /// the patches in the same order beside them; every channel must have the same number of entries, all tiles
    /// the same size.
    public static func render(channels: [Int], entries: [[Entry]], blocksPerRow: Int? = nil) -> RasterImage {
        precondition(channels.count == entries.count && !entries.isEmpty, "one list of entries per channel")
        let perChannel = entries[0].count
        let columns = Int(Double(perChannel).squareRoot().rounded(.up))
        let blocks = entries.map { list in
            let projections = ContactSheet.render(tiles: list.map(\.projection), labels: list.map(\.projectionLabel),
                                                  columns: columns, minimumTileSize: 64)
            let patches = ContactSheet.render(tiles: list.map(\.patch), labels: list.map(\.patchLabel),
                                              columns: columns, minimumTileSize: 64)
            return beside(projections, patches, gap: 8)
        }
        let perRow = blocksPerRow ?? max(1, min(4, Int(Double(blocks.count).squareRoot().rounded(.up))))
        return ContactSheet.render(tiles: blocks, labels: channels.map(String.init), columns: perRow, minimumTileSize: 1)
    }

    /// `left` and `right` (same height and channels) side by side with `gap` white columns between them.
    static func beside(_ left: RasterImage, _ right: RasterImage, gap: Int) -> RasterImage {
        let (channels, height) = (left.channels, left.height)
        let width = left.width + gap + right.width
        var pixels = [UInt8](repeating: 255, count: width * height * channels)
        for y in 0..<height {
            for (image, offset) in [(left, 0), (right, left.width + gap)] {
                let source = y * image.width * channels
                let target = (y * width + offset) * channels
                pixels.replaceSubrange(target..<(target + image.width * channels),
                                       with: image.pixels[source..<(source + image.width * channels)])
            }
        }
        return RasterImage(width: width, height: height, channels: channels, pixels: pixels)
    }
}
