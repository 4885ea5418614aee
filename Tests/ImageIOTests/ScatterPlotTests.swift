@testable import ImageIO
import Testing

@Suite("Scatter plots and their pixel font")
struct ScatterPlotTests {
    /// matplotlib's tab10 then tab20's lighter colours, typed out here so the test checks the palette too.
    static let palette: [[UInt8]] = [
        [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
        [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207], [174, 199, 232], [255, 187, 120],
        [152, 223, 138], [255, 152, 150], [197, 176, 213], [196, 156, 148], [247, 182, 210], [199, 199, 199],
        [219, 219, 141], [158, 218, 229],
    ]
    static let printable = (32...126).map { Character(Unicode.Scalar(UInt8($0))) }

    // MARK: The font

    static func bitmap(_ character: Character) -> [Bool] {
        (0..<PixelFont.glyphHeight).flatMap { y in
            (0..<PixelFont.glyphWidth).map { x in PixelFont.isInk(character, x: x, y: y) }
        }
    }

    @Test func everyPrintableCharacterButSpaceHasInk() {
        for character in Self.printable where character != " " {
            #expect(Self.bitmap(character).contains(true), "'\(character)' is blank")
        }
        #expect(!Self.bitmap(" ").contains(true))
        #expect(!Self.bitmap("é").contains(true), "characters outside the table stay blank")
    }

    /// The glyphs the font had before letters came: sheets labelled with numbers must not change.
    @Test func theOriginalGlyphsAreUnchanged() {
        let original: [Character: [UInt8]] = [
            "0": [0b111, 0b101, 0b101, 0b101, 0b111], "1": [0b010, 0b110, 0b010, 0b010, 0b111],
            "2": [0b111, 0b001, 0b111, 0b100, 0b111], "3": [0b111, 0b001, 0b111, 0b001, 0b111],
            "4": [0b101, 0b101, 0b111, 0b001, 0b001], "5": [0b111, 0b100, 0b111, 0b001, 0b111],
            "6": [0b111, 0b100, 0b111, 0b101, 0b111], "7": [0b111, 0b001, 0b010, 0b010, 0b010],
            "8": [0b111, 0b101, 0b111, 0b101, 0b111], "9": [0b111, 0b101, 0b111, 0b001, 0b111],
            "-": [0b000, 0b000, 0b111, 0b000, 0b000], "/": [0b001, 0b001, 0b010, 0b100, 0b100],
            ":": [0b000, 0b010, 0b000, 0b010, 0b000], ".": [0b000, 0b000, 0b000, 0b000, 0b010],
        ]
        for (character, rows) in original {
            let expected: [Bool] = rows.flatMap { row in (0..<3).map { (row >> (2 - $0)) & 1 == 1 } }
            #expect(Self.bitmap(character) == expected, "'\(character)' changed")
        }
    }

    @Test func noTwoGlyphsShareAShape() {
        var seen: [[Bool]: Character] = [:]
        for character in Self.printable {
            let bitmap = Self.bitmap(character)
            #expect(seen[bitmap] == nil, "'\(character)' looks like '\(seen[bitmap] ?? "?")'")
            seen[bitmap] = character
        }
        for letter in Self.printable where letter.isLowercase {
            #expect(Self.bitmap(letter) != Self.bitmap(Character(letter.uppercased())))
        }
    }

    @Test func drawnTextMatchesTheGlyphsAndIsClippedAtTheEdges() {
        var image = RasterImage(width: 30, height: 12, channels: 3, pixels: [UInt8](repeating: 255, count: 30 * 12 * 3))
        PixelFont.draw("Ag1", into: &image, left: 1, top: 1, scale: 2, ink: 7)
        for (position, character) in "Ag1".enumerated() {
            for y in 0..<10 {
                for x in 0..<6 {
                    let index = ((1 + y) * 30 + 1 + position * 8 + x) * 3
                    #expect(image.pixels[index] == (PixelFont.isInk(character, x: x / 2, y: y / 2) ? 7 : 255))
                }
            }
        }
        #expect(PixelFont.width(of: "Ag1", scale: 2) == 22)
        PixelFont.draw("Wide text", into: &image, left: -5, top: 8, scale: 3)  // must not trap
    }

    // MARK: The plot

    static func colour(_ image: RasterImage, _ x: Int, _ y: Int) -> [UInt8] {
        let index = (y * image.width + x) * 3
        return Array(image.pixels[index..<(index + 3)])
    }

    /// Every pixel of exactly `colour`.
    static func pixels(of colour: [UInt8], in image: RasterImage) -> [(x: Int, y: Int)] {
        stride(from: 0, to: image.pixels.count, by: 3).compactMap { index in
            image.pixels[index] == colour[0] && image.pixels[index + 1] == colour[1]
                && image.pixels[index + 2] == colour[2] ? (index / 3 % image.width, index / 3 / image.width) : nil
        }
    }

    static func solid(width: Int, height: Int, _ colour: [UInt8]) -> RasterImage {
        RasterImage(width: width, height: height, channels: 3,
                    pixels: Array(repeating: colour, count: width * height).flatMap { $0 })
    }

    static func centroid(_ pixels: [(x: Int, y: Int)]) -> (x: Double, y: Double) {
        let count = Double(max(1, pixels.count))
        return (Double(pixels.map(\.x).reduce(0, +)) / count, Double(pixels.map(\.y).reduce(0, +)) / count)
    }

    /// The plot area's top-left pixel, found as the inside corner of its frame: the first row holding a run of
    /// `size` identical non-white pixels (no glyph of the title makes one).
    static func plotCorner(_ image: RasterImage, size: Int, sourceLocation: SourceLocation = #_sourceLocation)
        -> (left: Int, top: Int)
    {
        for y in 0..<image.height {
            var run = 0
            for x in 0..<image.width {
                let index = (y * image.width + x) * 3
                let here = image.pixels[index..<(index + 3)]
                run = here != [255, 255, 255] && x > 0 && here == image.pixels[(index - 3)..<index] ? run + 1 : 0
                if run == size { return (x - size + 1, y + 1) }
            }
        }
        Issue.record("no plot frame found", sourceLocation: sourceLocation)
        return (0, 0)
    }

    /// Points of `colour` inside the plot area, and those outside it.
    static func split(_ colour: [UInt8], in image: RasterImage, size: Int)
        -> (inside: [(x: Int, y: Int)], outside: [(x: Int, y: Int)])
    {
        let (left, top) = plotCorner(image, size: size)
        let all = pixels(of: colour, in: image)
        let isInside = { (p: (x: Int, y: Int)) in
            (left..<(left + size)).contains(p.x) && (top..<(top + size)).contains(p.y)
        }
        return (all.filter(isInside), all.filter { !isInside($0) })
    }

    @Test func pointsAtOppositeCornersLandInOppositeCornersOfThePlot() {
        let size = 300
        let image = ScatterPlot.render(points: [(x: -4, y: 2), (x: 6, y: 12)], classes: [0, 1],
                                       classNames: ["low", "high"], size: size)
        #expect(image.channels == 3)
        let (left, top) = Self.plotCorner(image, size: size)
        let low = Self.split(Self.palette[0], in: image, size: size).inside
        let high = Self.split(Self.palette[1], in: image, size: size).inside
        #expect(!low.isEmpty && !high.isEmpty)
        // x grows to the right and y upwards, markers a few pixels from the plot area's edges but never on them.
        let (lowCentre, highCentre) = (Self.centroid(low), Self.centroid(high))
        #expect(abs(lowCentre.x - Double(left)) < 10 && abs(lowCentre.y - Double(top + size - 1)) < 10)
        #expect(abs(highCentre.x - Double(left + size - 1)) < 10 && abs(highCentre.y - Double(top)) < 10)
        for pixel in low + high {
            #expect(pixel.x > left && pixel.x < left + size - 1 && pixel.y > top && pixel.y < top + size - 1)
        }
        // A disc of radius 2 (size / 300 is smaller), filled with the class colour inside a darker outline.
        #expect(low.map(\.x).max()! - low.map(\.x).min()! <= 5)
        let centre = (x: Int(lowCentre.x.rounded()), y: Int(lowCentre.y.rounded()))
        #expect(Self.colour(image, centre.x, centre.y) == Self.palette[0])
        #expect(Self.colour(image, centre.x + 3, centre.y) == [255, 255, 255])
        let outline = Self.colour(image, centre.x + 2, centre.y)
        #expect(outline != Self.palette[0] && outline != [255, 255, 255])
    }

    @Test func bothAxesShareOneScaleAndTheDataIsCentred() {
        let size = 400
        let square = ScatterPlot.render(points: [(x: 0, y: 0), (x: 10, y: 10)], classes: [0, 1],
                                        classNames: ["a", "b"], size: size)
        let flat = ScatterPlot.render(points: [(x: 0, y: 0), (x: 10, y: 2)], classes: [0, 1],
                                      classNames: ["a", "b"], size: size)
        #expect(square.width == flat.width && square.height == flat.height)
        func centres(_ image: RasterImage) -> (a: (x: Double, y: Double), b: (x: Double, y: Double)) {
            (Self.centroid(Self.split(Self.palette[0], in: image, size: size).inside),
             Self.centroid(Self.split(Self.palette[1], in: image, size: size).inside))
        }
        let (squareA, squareB) = centres(square), (flatA, flatB) = centres(flat)
        let (dx, dy) = (flatB.x - flatA.x, flatA.y - flatB.y)
        #expect(abs(dy / dx - 0.2) < 0.01, "\(dx) × \(dy)")
        #expect(abs(squareB.x - squareA.x - dx) < 1)
        #expect(abs((flatA.y + flatB.y) / 2 - (squareA.y + squareB.y) / 2) < 1, "the flat data is centred vertically")
    }

    @Test func theLegendIsRightOfThePlotWithEachClassesSwatchAndName() {
        let size = 200
        let names = ["zero", "one", "two"]
        // Every point is class 0, at the plot's right edge too, so classes 1 and 2 appear only in the legend.
        let image = ScatterPlot.render(points: [(x: 0, y: 0), (x: 10, y: 5)], classes: [0, 0], classNames: names,
                                       size: size)
        let (left, top) = Self.plotCorner(image, size: size)
        var swatchTops: [Double] = []
        for index in names.indices {
            let (inside, outside) = Self.split(Self.palette[index], in: image, size: size)
            #expect(inside.isEmpty == (index != 0))
            #expect(!outside.isEmpty, "no swatch for class \(index)")
            #expect(outside.allSatisfy { $0.x >= left + size }, "class \(index)'s swatch overlaps the plot")
            swatchTops.append(Self.centroid(outside).y)
        }
        #expect(swatchTops == swatchTops.sorted() && swatchTops[0] < Double(top + 20))
        // Names in black to the right of the swatches.
        let ink = Self.pixels(of: [0, 0, 0], in: image)
        let swatchRight = Self.split(Self.palette[0], in: image, size: size).outside.map(\.x).max()!
        #expect(!ink.isEmpty && ink.allSatisfy { $0.x > swatchRight })
    }

    @Test func manyClassesTakeMoreLegendColumnsAndColoursRepeatWithAnotherShape() {
        let size = 64  // four legend rows per column
        let count = 45
        let points = (0..<count).map { (x: Float($0 % 7), y: Float($0 / 7)) }
        let image = ScatterPlot.render(points: points, classes: Array(0..<count),
                                       classNames: (0..<count).map { "class \($0)" }, size: size)
        let (left, top) = Self.plotCorner(image, size: size)
        #expect(image.height <= top + size + 64, "the legend wraps into columns instead of growing down")
        var legendColumns = Set<Int>()
        for colour in Self.palette {
            let outside = Self.split(colour, in: image, size: size).outside
            #expect(!outside.isEmpty)
            #expect(outside.allSatisfy { $0.x >= left + size })
            legendColumns.formUnion(outside.map { $0.x / 40 })
        }
        #expect(legendColumns.count > 3)

        // Class 0 and class 20 share a colour; their markers differ in shape.
        let big = 900  // radius 3
        func shape(_ classIndex: Int) -> Set<[Int]> {
            let image = ScatterPlot.render(points: [(x: 0, y: 0)], classes: [classIndex],
                                           classNames: (0...classIndex).map { _ in "" }, size: big)
            let inside = Self.split(Self.palette[classIndex % 20], in: image, size: big).inside
            let (minX, minY) = (inside.map(\.x).min() ?? 0, inside.map(\.y).min() ?? 0)
            return Set(inside.map { [$0.x - minX, $0.y - minY] })
        }
        #expect(!shape(0).isEmpty && shape(0) != shape(20) && shape(20) != shape(40))
    }

    @Test func thumbnailsAreDrawnAtTheirPointsInAFrameOfTheirClassColour() {
        let size = 200
        let red = Self.solid(width: 10, height: 5, [200, 10, 10])
        let gray = RasterImage(width: 3, height: 3, channels: 1, pixels: Array(repeating: 77, count: 9))
        // A 40×40 checkerboard of 0 and 255 boxed down by 2: every drawn pixel is the mean, 128.
        let checker = RasterImage(
            width: 40, height: 40, channels: 1,
            pixels: (0..<1600).map { ($0 % 40 + $0 / 40) % 2 == 0 ? 0 : 255 })
        let image = ScatterPlot.render(points: [(x: 0, y: 0), (x: 10, y: 10), (x: 0, y: 10)], classes: [0, 1, 2],
                                       classNames: ["red", "gray", "checker"], thumbnails: [red, gray, checker],
                                       size: size, thumbnailSize: 20)
        let (left, top) = Self.plotCorner(image, size: size)
        func box(_ colour: [UInt8]) -> (minX: Int, maxX: Int, minY: Int, maxY: Int) {
            let found = Self.pixels(of: colour, in: image)
            #expect(found.count == (found.map(\.x).max()! - found.map(\.x).min()! + 1)
                    * (found.map(\.y).max()! - found.map(\.y).min()! + 1), "\(colour) is not one filled rectangle")
            return (found.map(\.x).min()!, found.map(\.x).max()!, found.map(\.y).min()!, found.map(\.y).max()!)
        }
        let redBox = box([200, 10, 10]), grayBox = box([77, 77, 77]), checkerBox = box([128, 128, 128])
        #expect(redBox.maxX - redBox.minX + 1 == 20 && redBox.maxY - redBox.minY + 1 == 10)
        #expect(grayBox.maxX - grayBox.minX + 1 == 20 && grayBox.maxY - grayBox.minY + 1 == 20)
        #expect(checkerBox.maxX - checkerBox.minX + 1 == 20 && checkerBox.maxY - checkerBox.minY + 1 == 20)
        // Bottom left, top right, top left; each inside the plot area.
        #expect(redBox.minX - left < 10 && top + size - 1 - redBox.maxY < 10)
        #expect(left + size - 1 - grayBox.maxX < 10 && grayBox.minY - top < 10)
        #expect(checkerBox.minX - left < 10 && checkerBox.minY - top < 10)
        for (box, classIndex) in [(redBox, 0), (grayBox, 1), (checkerBox, 2)] {
            #expect(Self.colour(image, box.minX - 1, box.minY - 1) == Self.palette[classIndex])
            #expect(Self.colour(image, box.maxX + 1, (box.minY + box.maxY) / 2) == Self.palette[classIndex])
            #expect(box.minX > left && box.maxX < left + size - 1 && box.minY > top && box.maxY < top + size - 1)
        }
    }

    @Test func laterThumbnailsCoverEarlierOnes() {
        let (first, second) = (Self.solid(width: 4, height: 4, [1, 2, 3]), Self.solid(width: 4, height: 4, [4, 5, 6]))
        let image = ScatterPlot.render(points: [(x: 1, y: 1), (x: 1, y: 1)], classes: [0, 0], classNames: ["a"],
                                       thumbnails: [first, second], size: 100, thumbnailSize: 16)
        #expect(Self.pixels(of: [1, 2, 3], in: image).isEmpty)
        #expect(Self.pixels(of: [4, 5, 6], in: image).count == 256)
    }

    @Test func theSameInputGivesTheSameBytes() {
        let points: [(x: Float, y: Float)] = (0..<500).map { (Float($0 * 37 % 101), Float($0 * 53 % 89)) }
        let classes = (0..<500).map { $0 % 12 }
        let names = (0..<12).map { "Class \($0)" }
        let thumbnails = (0..<500).map { index in
            RasterImage(width: 6, height: 9, channels: 1, pixels: (0..<54).map { UInt8(($0 * 11 + index) % 256) })
        }
        for thumbnails in [nil, thumbnails] {
            let first = ScatterPlot.render(points: points, classes: classes, classNames: names, thumbnails: thumbnails,
                                           size: 256, thumbnailSize: 12, title: "Repeatable")
            let second = ScatterPlot.render(points: points, classes: classes, classNames: names, thumbnails: thumbnails,
                                            size: 256, thumbnailSize: 12, title: "Repeatable")
            #expect(first == second)
        }
    }

    @Test func pointsWithNaNOrInfiniteCoordinatesAreSkipped() {
        let names = ["kept", "nan", "infinite"]
        let clean = ScatterPlot.render(points: [(x: 0, y: 0), (x: 10, y: 10)], classes: [0, 0], classNames: names,
                                       size: 128)
        let dirty = ScatterPlot.render(
            points: [(x: .nan, y: 5), (x: 0, y: 0), (x: 3, y: .infinity), (x: 10, y: 10), (x: -.infinity, y: .nan)],
            classes: [1, 0, 2, 0, 1], classNames: names, size: 128)
        #expect(dirty == clean)
        let allNaN = ScatterPlot.render(points: [(x: .nan, y: .nan)], classes: [0], classNames: ["a"], size: 64)
        #expect(Self.split(Self.palette[0], in: allNaN, size: 64).inside.isEmpty)
    }

    @Test func aSinglePointAndIdenticalPointsSitAtTheCentre() {
        let size = 128
        let single = ScatterPlot.render(points: [(x: 3, y: -7)], classes: [0], classNames: ["only"], size: size)
        let identical = ScatterPlot.render(points: Array(repeating: (x: 3, y: -7), count: 5), classes: [0, 0, 0, 0, 0],
                                           classNames: ["only"], size: size)
        #expect(single == identical)
        let (left, top) = Self.plotCorner(single, size: size)
        let centre = Self.centroid(Self.split(Self.palette[0], in: single, size: size).inside)
        #expect(abs(centre.x - Double(left + size / 2)) <= 1 && abs(centre.y - Double(top + size / 2)) <= 1)
        // Nothing at all, and the smallest plot, still render.
        let empty = ScatterPlot.render(points: [], classes: [], classNames: [], size: 32)
        #expect(empty.width > 32 && empty.height > 32 && empty.channels == 3)
        _ = ScatterPlot.render(points: [(x: 0, y: 0), (x: 1, y: 1)], classes: [0, 0], classNames: ["a"], size: 1)
    }

    @Test func aTitleGoesAboveThePlot() {
        let plain = ScatterPlot.render(points: [(x: 0, y: 0)], classes: [0], classNames: [""], size: 100)
        let titled = ScatterPlot.render(points: [(x: 0, y: 0)], classes: [0], classNames: [""], size: 100,
                                        title: "t-SNE (MNIST)")
        let (_, plotTop) = Self.plotCorner(titled, size: 100)
        let ink = Self.pixels(of: [0, 0, 0], in: titled)
        #expect(Self.pixels(of: [0, 0, 0], in: plain).isEmpty)
        #expect(!ink.isEmpty && ink.allSatisfy { $0.y < plotTop - 1 })
        #expect(titled.height - plain.height == plotTop - Self.plotCorner(plain, size: 100).top)
    }
}
