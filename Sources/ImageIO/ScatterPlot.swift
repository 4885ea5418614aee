/// Draws a 2-D embedding (t-SNE, PCA) as a scatter plot: a marker or a thumbnail per point in its class's colour,
/// with a legend of class names to the right of the plot area.
public enum ScatterPlot {
    /// The scatter plot of `points`: an RGB image on white with the optional title on top, the `size`×`size` plot
    /// area in a grey frame below it, and the legend (a swatch and a name per class, in as many columns as the plot
    /// area's height needs) to its right.
    ///
    /// x grows to the right and y upwards, both at one scale (the data's aspect ratio is kept), the points centred in
    /// the plot area and padded so no marker or thumbnail is clipped. Points are drawn in index order, later ones on
    /// top, so the same input gives the same bytes. Points with a NaN or infinite coordinate are left out.
    ///
    /// - Parameters:
    ///   - points: N positions in any units.
    ///   - classes: N class indices into `classNames`, one per point.
    ///   - classNames: the legend's names, one per class; characters outside printable ASCII are drawn blank.
    ///   - thumbnails: nil for markers (discs, and after the 20th class squares, then diamonds), or N images of any
    ///     size with 1 or 3 channels (a fourth, alpha, is ignored), each drawn scaled to `thumbnailSize` pixels on
    ///     its longer side (box filter), centred at its point in a 1-pixel frame of its class's colour.
    ///   - size: the side of the plot area in pixels; margins, title and legend come on top of it.
    ///   - thumbnailSize: the longer side of each drawn thumbnail in pixels.
    ///   - title: one line drawn centred above the plot area.
    /// - Precondition: `classes` (and `thumbnails`, when given) have one entry per point, every class is in
    ///   `0..<classNames.count`, and `size` and `thumbnailSize` are positive.
    public static func render(points: [(x: Float, y: Float)], classes: [Int], classNames: [String],
                              thumbnails: [RasterImage]? = nil, size: Int = 1024, thumbnailSize: Int = 28,
                              title: String? = nil) -> RasterImage {
        precondition(classes.count == points.count, "\(classes.count) classes for \(points.count) points")
        precondition(
            thumbnails.map { $0.count == points.count } ?? true,
            "\(thumbnails?.count ?? 0) thumbnails for \(points.count) points")
        precondition(size > 0 && thumbnailSize > 0, "sizes must be positive: plot \(size), thumbnail \(thumbnailSize)")
        if let stray = classes.first(where: { !classNames.indices.contains($0) }) {
            preconditionFailure("class \(stray) is not in 0..<\(classNames.count) (one name per class)")
        }

        let title = title.flatMap { $0.isEmpty ? nil : $0 }
        let layout = Layout(size: size, classNames: classNames, hasTitle: title != nil)
        var image = RasterImage(
            width: layout.width, height: layout.height, channels: 3,
            pixels: [UInt8](repeating: 255, count: layout.width * layout.height * 3))
        if let title {
            let titleWidth = PixelFont.width(of: title, scale: Layout.titleScale)
            let left = max(layout.margin, layout.plotLeft + (size - titleWidth) / 2)
            PixelFont.draw(title, into: &image, left: left, top: layout.margin, scale: Layout.titleScale)
        }
        image.frame(left: layout.plotLeft - 1, top: layout.plotTop - 1, width: size + 2, height: size + 2, frameColour)
        for (index, name) in classNames.enumerated() {
            let (left, top) = layout.legendRow(index)
            let swatch = Marker(shape: Shape(forClass: index), radius: Layout.swatchRadius)
            swatch.draw(into: &image, x: left + Layout.swatchRadius, y: top + Layout.swatchRadius, colour(index))
            PixelFont.draw(name, into: &image, left: left + Layout.nameOffset, top: top, scale: Layout.textScale)
        }

        let radius = max(2, size / 300)
        let markers = Shape.allCases.map { Marker(shape: $0, radius: radius) }
        let padding = (thumbnails == nil ? radius : thumbnailSize / 2 + 1) + 2
        let mapping = Mapping(points: points, left: layout.plotLeft, top: layout.plotTop, size: size, padding: padding)
        for (index, point) in points.enumerated() {
            guard let pixel = mapping.pixel(point) else { continue }
            let colour = colour(classes[index])
            if let thumbnail = thumbnails?[index], thumbnail.width > 0, thumbnail.height > 0 {
                image.drawThumbnail(thumbnail, x: pixel.x, y: pixel.y, side: thumbnailSize, frame: colour)
            } else {
                markers[Shape(forClass: classes[index]).rawValue].draw(into: &image, x: pixel.x, y: pixel.y, colour)
            }
        }
        return image
    }

    /// matplotlib's tab10, then the lighter halves of tab20's pairs. Beyond 20 classes the colours repeat and the
    /// marker shape changes instead (``Shape``).
    fileprivate static let palette: [Colour] = [
        Colour(31, 119, 180), Colour(255, 127, 14), Colour(44, 160, 44), Colour(214, 39, 40),
        Colour(148, 103, 189), Colour(140, 86, 75), Colour(227, 119, 194), Colour(127, 127, 127),
        Colour(188, 189, 34), Colour(23, 190, 207),
        Colour(174, 199, 232), Colour(255, 187, 120), Colour(152, 223, 138), Colour(255, 152, 150),
        Colour(197, 176, 213), Colour(196, 156, 148), Colour(247, 182, 210), Colour(199, 199, 199),
        Colour(219, 219, 141), Colour(158, 218, 229),
    ]

    /// The fill colour of `classIndex`'s markers, swatch and thumbnail frames.
    fileprivate static func colour(_ classIndex: Int) -> Colour { palette[classIndex % palette.count] }

    private static let frameColour = Colour(190, 190, 190)

    fileprivate struct Colour {
        let r: UInt8, g: UInt8, b: UInt8

        init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }

        /// 60 % of each channel: the outline that keeps overlapping markers of one class apart.
        var darker: Colour { Colour(UInt8(Int(r) * 3 / 5), UInt8(Int(g) * 3 / 5), UInt8(Int(b) * 3 / 5)) }
    }

    /// Marker shapes, one per block of 20 classes (then repeating), so classes that share a colour still differ.
    fileprivate enum Shape: Int, CaseIterable {
        case disc, square, diamond

        init(forClass classIndex: Int) {
            self = Shape.allCases[classIndex / ScatterPlot.palette.count % Shape.allCases.count]
        }

        func contains(dx: Int, dy: Int, radius: Int) -> Bool {
            switch self {
            case .disc: dx * dx + dy * dy <= radius * radius + radius
            case .square: max(abs(dx), abs(dy)) <= max(1, (radius * 4 + 2) / 5)  // about the disc's area
            case .diamond: abs(dx) + abs(dy) <= radius + radius / 4
            }
        }
    }

    /// A filled marker as offsets from its centre; `edge` marks the outline (a pixel with a 4-neighbour outside).
    fileprivate struct Marker {
        let offsets: [(dx: Int, dy: Int, edge: Bool)]

        init(shape: Shape, radius: Int) {
            var offsets: [(dx: Int, dy: Int, edge: Bool)] = []
            for dy in -radius...radius {
                for dx in -radius...radius where shape.contains(dx: dx, dy: dy, radius: radius) {
                    let interior = [(1, 0), (-1, 0), (0, 1), (0, -1)].allSatisfy {
                        shape.contains(dx: dx + $0.0, dy: dy + $0.1, radius: radius)
                    }
                    offsets.append((dx, dy, !interior))
                }
            }
            self.offsets = offsets
        }

        func draw(into image: inout RasterImage, x: Int, y: Int, _ colour: Colour) {
            let outline = colour.darker
            for offset in offsets { image.paint(x + offset.dx, y + offset.dy, offset.edge ? outline : colour) }
        }
    }
}

/// Where the title, plot area and legend sit in the image.
private struct Layout {
    /// Names are as tall as a swatch (2 × 5 pixels against 11) and start 5 pixels right of it.
    static let titleScale = 3, textScale = 2, swatchRadius = 5, nameOffset = 16, rowHeight = 16
    let margin: Int, plotLeft: Int, plotTop: Int, legendLeft: Int
    let rowsPerColumn: Int, columnWidth: Int
    let width: Int, height: Int

    init(size: Int, classNames: [String], hasTitle: Bool) {
        let margin = max(12, size / 64)
        self.margin = margin
        plotLeft = margin
        plotTop = margin + (hasTitle ? PixelFont.glyphHeight * Self.titleScale + margin : 0)
        legendLeft = plotLeft + size + margin
        rowsPerColumn = max(1, size / Self.rowHeight)
        let longestName = classNames.map { PixelFont.width(of: $0, scale: Self.textScale) }.max() ?? 0
        columnWidth = Self.nameOffset + longestName + margin
        let columns = (classNames.count + rowsPerColumn - 1) / rowsPerColumn
        width = legendLeft + columns * columnWidth
        height = plotTop + size + margin
    }

    /// The top-left corner of class `index`'s legend row: columns fill top to bottom, left to right.
    func legendRow(_ index: Int) -> (left: Int, top: Int) {
        (legendLeft + index / rowsPerColumn * columnWidth, plotTop + index % rowsPerColumn * Self.rowHeight)
    }
}

/// Data coordinates to pixels: one scale for both axes, the finite points' bounding box centred in the plot area.
private struct Mapping {
    let minX: Double, minY: Double, scale: Double
    /// The pixel of (minX, minY), y pointing down.
    let originX: Double, originY: Double

    init(points: [(x: Float, y: Float)], left: Int, top: Int, size: Int, padding: Int) {
        var (minX, minY, maxX, maxY) = (Double.infinity, Double.infinity, -Double.infinity, -Double.infinity)
        for point in points where point.x.isFinite && point.y.isFinite {
            (minX, maxX) = (min(minX, Double(point.x)), max(maxX, Double(point.x)))
            (minY, maxY) = (min(minY, Double(point.y)), max(maxY, Double(point.y)))
        }
        if minX > maxX { (minX, minY, maxX, maxY) = (0, 0, 0, 0) }
        let usable = Double(max(0, size - 1 - 2 * padding))
        let span = max(maxX - minX, maxY - minY)
        scale = span > 0 ? usable / span : 0
        (self.minX, self.minY) = (minX, minY)
        originX = Double(left + padding) + (usable - (maxX - minX) * scale) / 2
        originY = Double(top + padding) + usable - (usable - (maxY - minY) * scale) / 2
    }

    /// The pixel of `point`, or nil if a coordinate is NaN or infinite.
    func pixel(_ point: (x: Float, y: Float)) -> (x: Int, y: Int)? {
        guard point.x.isFinite && point.y.isFinite else { return nil }
        let x = originX + (Double(point.x) - minX) * scale, y = originY - (Double(point.y) - minY) * scale
        return (Int(x.rounded()), Int(y.rounded()))
    }
}

extension RasterImage {
    /// Sets pixel (x, y) of this RGB image to `colour`, if it lies inside.
    fileprivate mutating func paint(_ x: Int, _ y: Int, _ colour: ScatterPlot.Colour) {
        guard x >= 0 && x < width && y >= 0 && y < height else { return }
        let index = (y * width + x) * 3
        (pixels[index], pixels[index + 1], pixels[index + 2]) = (colour.r, colour.g, colour.b)
    }

    /// A 1-pixel rectangle outline whose outer corner is (left, top).
    fileprivate mutating func frame(left: Int, top: Int, width: Int, height: Int, _ colour: ScatterPlot.Colour) {
        for x in left..<(left + width) {
            paint(x, top, colour)
            paint(x, top + height - 1, colour)
        }
        for y in top..<(top + height) {
            paint(left, y, colour)
            paint(left + width - 1, y, colour)
        }
    }

    /// Draws `thumbnail` scaled to `side` pixels on its longer side (`RasterImage.scaled`), as RGB over white,
    /// centred at (x, y), in a 1-pixel frame.
    fileprivate mutating func drawThumbnail(_ thumbnail: RasterImage, x: Int, y: Int, side: Int,
                                            frame colour: ScatterPlot.Colour) {
        let drawn = thumbnail.scaled(toLongerSide: side).rgbOverWhite()
        let (left, top) = (x - drawn.width / 2, y - drawn.height / 2)
        frame(left: left - 1, top: top - 1, width: drawn.width + 2, height: drawn.height + 2, colour)
        for row in 0..<drawn.height where (0..<height).contains(top + row) {
            for column in 0..<drawn.width where (0..<width).contains(left + column) {
                let source = (row * drawn.width + column) * 3, target = ((top + row) * width + left + column) * 3
                pixels[target..<(target + 3)] = drawn.pixels[source..<(source + 3)]
            }
        }
    }
}
