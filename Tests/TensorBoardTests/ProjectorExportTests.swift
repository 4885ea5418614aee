import Foundation
import ImageIO
import Testing

@testable import TensorBoard

/// Projector exports as ConvLens writes them.
///
/// The config text, the tensor and metadata files read back, the sprite's grid, and the all-or-nothing replacement
/// of the folder. Tools/check_projector.py loads a real export with
/// TensorBoard's own projector plugin.
@Suite("TensorBoard Projector exports")
struct ProjectorExportTests {
    /// Two embeddings of three points; their float32 bytes are not valid UTF-8 (1.0 is 00 00 80 3F), so `.binary`
    /// writes both raw.
    static let example = ProjectorExport(
        embeddings: [
            .init(name: "features/pool", rows: 3, columns: 2, values: [1, -1.5, 0.1, 1e-7, -0.0, 3.25]),
            .init(name: "logits \"raw\"", rows: 3, columns: 1, values: [1, 4, -8]),
        ],
        metadata: [
            (header: "label", values: ["7", "2", "1"]), (header: "file", values: ["a.png", "b.png", "c.png"]),
        ],
        images: (0..<3).map { solid(width: 4, height: 4, [UInt8($0 * 50)]) })

    @Test func theConfigIsTheExpectedTextProtobuf() throws {
        let folder = try temporaryFolder()
        try Self.example.write(to: folder)
        #expect(
            try text(folder, "projector_config.pbtxt") == """
                embeddings {
                  tensor_name: "features/pool"
                  metadata_path: "metadata.tsv"
                  tensor_shape: 3
                  tensor_shape: 2
                  sprite {
                    image_path: "sprite.png"
                    single_image_dim: 4
                    single_image_dim: 4
                  }
                  tensor_path: "tensor-0.bytes"
                }
                embeddings {
                  tensor_name: "logits \\"raw\\""
                  metadata_path: "metadata.tsv"
                  tensor_shape: 3
                  tensor_shape: 1
                  sprite {
                    image_path: "sprite.png"
                    single_image_dim: 4
                    single_image_dim: 4
                  }
                  tensor_path: "tensor-1.bytes"
                }

                """)
        #expect(
            try Set(FileManager.default.contentsOfDirectory(atPath: folder))
                == ["projector_config.pbtxt", "tensor-0.bytes", "tensor-1.bytes", "metadata.tsv", "sprite.png"])
    }

    /// Escapes as protobuf's own `text_format.MessageToString` prints them (checked against Python's output).
    @Test func stringsAreEscapedAsProtobufPrintsThem() {
        #expect(ProjectorExport.quoted("a\"b\\c\td\u{1}é'\n\r\u{7F}") == #""a\"b\\c\td\001é\'\n\r\177""#)
    }

    @Test func binaryTensorsReadBackBitForBit() throws {
        let folder = try temporaryFolder()
        try Self.example.write(to: folder)
        for (index, embedding) in Self.example.embeddings.enumerated() {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/tensor-\(index).bytes"))
            #expect(bytes.count == embedding.rows * embedding.columns * 4)
            let values = stride(from: 0, to: bytes.count, by: 4).map { offset in
                bytes[offset..<(offset + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            #expect(values == embedding.values.map(\.bitPattern))
        }
    }

    /// TensorBoard reads a tensor file as TSV unless it fails to decode as UTF-8: 2, 3, 0.5 and 0 are all ASCII
    /// bytes, so they go to a TSV file that reads back the same.
    @Test func binaryBytesThatDecodeAsTextAreWrittenAsTSV() throws {
        let folder = try temporaryFolder()
        let export = ProjectorExport(
            embeddings: [.init(name: "e", rows: 2, columns: 2, values: [2, 3, 0.5, 0])], metadata: [], images: nil)
        try export.write(to: folder)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
                "projector_config.pbtxt", "tensor-0.tsv",
            ])
        #expect(try text(folder, "tensor-0.tsv") == "2.0\t3.0\n0.5\t0.0\n")
        #expect(try text(folder, "projector_config.pbtxt").contains("tensor_path: \"tensor-0.tsv\"\n"))
    }

    @Test func tsvRowsParseBackToTheSameFloats() throws {
        let folder = try temporaryFolder()
        let values: [Float] = [0.1, -1e-7, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1 / 3, 42, -7.5]
        var export = ProjectorExport(
            embeddings: [.init(name: "e", rows: 2, columns: 4, values: values)], metadata: [], images: nil)
        export.format = .tsv
        try export.write(to: folder)
        let lines = try text(folder, "tensor-0.tsv").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty)
        let parsed = lines.prefix(2).map { $0.split(separator: "\t").compactMap { Float(String($0)) } }
        #expect(parsed.map(\.count) == [4, 4])
        #expect(parsed.joined().map(\.bitPattern) == values.map(\.bitPattern))
    }

    /// The front end takes a first line with a tab as the header and skips blank lines.
    @Test func metadataHasAHeaderOnlyWithSeveralColumns() throws {
        #expect(
            ProjectorExport.metadataTSV([(header: "label", values: ["cat", "a\tb", "x\ny\r\nz", " "])])
                == "cat\na b\nx y  z\n(blank)\n")
        #expect(
            ProjectorExport.metadataTSV([
                (header: "label", values: ["cat", "", ""]), (header: "file\tname", values: ["c.png", "d.png", "\t"]),
            ]) == "label\tfile name\ncat\tc.png\n\td.png\n(blank)\t \n")
        let folder = try temporaryFolder()
        try Self.example.write(to: folder)
        #expect(try text(folder, "metadata.tsv") == "label\tfile\n7\ta.png\n2\tb.png\n1\tc.png\n")
    }

    /// Five 3×3 images in a 3×3 grid of 3 px cells: cell k at row k / 3, column k % 3, the unused cells white.
    @Test func spriteCellsAreRowMajorInPointOrder() throws {
        var images = (0..<5).map { (k: Int) -> RasterImage in
            let base = UInt8(10 + k)
            return solid(width: 3, height: 3, [base, base + 10, base + 20])
        }
        let red = (1 * 3 + 2) * 3  // x 2, y 1 of image 4
        images[4].pixels.replaceSubrange(red..<(red + 3), with: [255, 0, 0] as [UInt8])
        images[1] = solid(width: 3, height: 3, [99])  // gray widens to RGB
        images[2] = solid(width: 3, height: 3, [10, 20, 30, 0])  // transparent composites to white
        let folder = try temporaryFolder()
        try ProjectorExport(
            embeddings: [.init(name: "e", rows: 5, columns: 2, values: (0..<10).map { Float($0) + 1.25 })],
            metadata: [], images: images
        ).write(to: folder)
        let sprite = try RasterImage(pngFile: folder + "/sprite.png")
        #expect((sprite.width, sprite.height, sprite.channels) == (9, 9, 3))
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(sprite.pixels[(y * 9 + x) * 3..<(y * 9 + x) * 3 + 3]) }
        let expected: [[UInt8]] = [[10, 20, 30], [99, 99, 99], [255, 255, 255], [13, 23, 33], [14, 24, 34]]
        for k in 0..<9 {
            #expect(pixel((k % 3) * 3, (k / 3) * 3) == (k < 5 ? expected[k] : [255, 255, 255]), "cell \(k)")
        }
        #expect(pixel(3 + 2, 3 + 1) == [255, 0, 0])
        #expect(try text(folder, "projector_config.pbtxt").contains("single_image_dim: 3\n    single_image_dim: 3\n"))
    }

    /// A wide image fills its cell's width and is centred vertically on white.
    @Test func aWideImageIsCentredInItsCell() {
        let sprite = ProjectorExport.sprite([solid(width: 4, height: 2, [0])]).picture
        #expect((sprite.width, sprite.height) == (4, 4))
        #expect(
            sprite.pixels == [UInt8](repeating: 255, count: 12) + [UInt8](repeating: 0, count: 24)
                + [UInt8](repeating: 255, count: 12))
    }

    /// ceil(√N) cells must fit 8192 px: 10,000 images of 100 px make 100 columns of 81 px (8100 px); the
    /// shrinking itself is checked on a small sprite with a small cap.
    @Test func theSpriteStaysWithinTheFrontEndsLimit() {
        #expect(ProjectorExport.spriteLayout(count: 10_000, longestSide: 100) == (100, 81))
        #expect(ProjectorExport.spriteLayout(count: 10_001, longestSide: 100) == (101, 81))
        #expect(ProjectorExport.spriteLayout(count: 9, longestSide: 28) == (3, 28))
        #expect(ProjectorExport.spriteLayout(count: 10, longestSide: 28) == (4, 28))
        #expect(ProjectorExport.spriteLayout(count: 1, longestSide: 9000) == (1, 8192))
        #expect(ProjectorExport.spriteLayout(count: 8193 * 8193, longestSide: 1).cell == 0)

        // 8×8 images into 2 px cells: each sprite pixel is the mean of a 4×4 block.
        var halves = solid(width: 8, height: 8, [200])
        for y in 0..<8 { for x in 0..<4 { halves.pixels[y * 8 + x] = 0 } }
        let checkerboard = RasterImage(
            width: 8, height: 8, channels: 1, pixels: (0..<64).map { ($0 / 8 + $0 % 8) % 2 == 0 ? 0 : 255 })
        let (sprite, cell) = ProjectorExport.sprite(
            [halves, checkerboard] + Array(repeating: halves, count: 8), maximumSide: 10)
        #expect(cell == 2 && sprite.width == 8 && sprite.height == 8)
        #expect(Array(sprite.pixels[0..<12]) == [0, 0, 0, 200, 200, 200, 128, 128, 128, 128, 128, 128])
    }

    @Test func aFolderWithOtherFilesIsRefusedAndLeftAlone() throws {
        let folder = try temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let before = ["a.txt": "keep", "b.png": "me", "projector_config.pbtxt": "old", "notes.md": "x", "z.dat": "y"]
        for (name, content) in before { try Data(content.utf8).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        let error = try #require(throws: TensorBoardError.self) { try Self.example.write(to: folder) }
        #expect(
            error.description
                == "\(folder): exists and holds other files (a.txt, b.png, notes.md and 1 more); give a new or empty folder"
        )
        for (name, content) in before { #expect(try text(folder, name) == content) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == before.count)
        #expect(try siblings(of: folder).isEmpty)

        let file = try temporaryFolder()
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let fileError = try #require(throws: TensorBoardError.self) { try Self.example.write(to: file) }
        #expect(fileError.description == "\(file): exists and is not a folder; give a new or empty folder")
        #expect(try text(file) == "x")
    }

    @Test func aPreviousExportIsReplacedWhole() throws {
        let folder = try temporaryFolder()
        try Self.example.write(to: folder) { staging in
            try Data("event".utf8).write(to: URL(fileURLWithPath: staging + "/events.out.tfevents.1.host.7"))
        }
        #expect(try text(folder, "events.out.tfevents.1.host.7") == "event")
        let smaller = ProjectorExport(
            embeddings: [.init(name: "only", rows: 1, columns: 2, values: [1, 4])], metadata: [], images: nil)
        try smaller.write(to: folder)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
                "projector_config.pbtxt", "tensor-0.bytes",
            ])
        #expect(try text(folder, "projector_config.pbtxt").contains("tensor_name: \"only\""))
        #expect(try siblings(of: folder).isEmpty)

        let empty = try temporaryFolder()
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try smaller.write(to: empty + "/")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).count == 2)
    }

    @Test func aFailingExtraLeavesNothingBehind() throws {
        struct Refused: Error {}
        let folder = try temporaryFolder()
        #expect(throws: Refused.self) {
            try Self.example.write(to: folder) { staging in
                try Data("half".utf8).write(to: URL(fileURLWithPath: staging + "/events.out.tfevents.2.host.7"))
                throw Refused()
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(try siblings(of: folder).isEmpty)

        // Over a previous export, the failure leaves that export as it was.
        try Self.example.write(to: folder)
        let config = try text(folder, "projector_config.pbtxt")
        #expect(throws: Refused.self) { try Self.example.write(to: folder) { _ in throw Refused() } }
        #expect(try text(folder, "projector_config.pbtxt") == config)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 5)
        #expect(try siblings(of: folder).isEmpty)
    }

    @Test func inconsistentInputsAreThrownBeforeAnythingIsWritten() throws {
        let a = ProjectorExport.Embedding(name: "a", rows: 2, columns: 3, values: Array(repeating: 1, count: 6))
        let cases: [(ProjectorExport, String)] = [
            (.init(embeddings: [], metadata: [], images: nil), "no embeddings to export"),
            (
                .init(
                    embeddings: [.init(name: "a", rows: 2, columns: 3, values: [1, 2, 3, 4, 5])], metadata: [],
                    images: nil),
                "embedding 'a' has 5 values; 2 rows × 3 columns need 6"
            ),
            (
                .init(
                    embeddings: [a, .init(name: "b", rows: 3, columns: 1, values: [1, 2, 3])], metadata: [], images: nil
                ),
                "embedding 'b' has 3 rows and 'a' has 2; the embeddings share one metadata file and sprite, so they need "
                    + "the same points"
            ),
            (
                .init(embeddings: [a, a], metadata: [], images: nil),
                "two embeddings are named 'a'; the projector tells them apart by name"
            ),
            (
                .init(embeddings: [.init(name: "", rows: 2, columns: 3, values: a.values)], metadata: [], images: nil),
                "embedding 0 has an empty name"
            ),
            (
                .init(embeddings: [a], metadata: [(header: "label", values: ["x"])], images: nil),
                "metadata column 'label' has 1 values for 2 points"
            ),
            (
                .init(
                    embeddings: [a],
                    metadata: [(header: "k", values: ["x", "y"]), (header: "k", values: ["1", "2"])], images: nil),
                "two metadata columns are headed 'k'"
            ),
            (.init(embeddings: [a], metadata: [], images: [solid(width: 2, height: 2, [0])]), "1 images for 2 points"),
            (
                .init(
                    embeddings: [a], metadata: [],
                    images: [solid(width: 2, height: 2, [0]), solid(width: 0, height: 2, [0])]),
                "image 1 is 0×2 pixels"
            ),
        ]
        for (export, reason) in cases {
            let folder = try temporaryFolder()
            let error = try #require(throws: TensorBoardError.self) { try export.write(to: folder) }
            #expect(error.description == "\(folder): \(reason)")
            #expect(!FileManager.default.fileExists(atPath: folder))
            #expect(try siblings(of: folder).isEmpty)
        }
    }

    @Test func onlyExportFilesMayBeReplaced() {
        for name in [
            "projector_config.pbtxt", "metadata.tsv", "sprite.png", "tensor-0.bytes", "tensor-12.tsv",
            "events.out.tfevents.1700000000.host.42",
        ] {
            #expect(ProjectorExport.isExportFile(name), "\(name)")
        }
        for name in [
            "tensor-.tsv", "tensor-1.png", "tensor-x.bytes", "tensor-١.tsv", "notes.txt", "plugins", ".DS_Store",
        ] {
            #expect(!ProjectorExport.isExportFile(name), "\(name)")
        }
    }
}

/// An image of one colour (1, 3 or 4 channel values).
private func solid(width: Int, height: Int, _ colour: [UInt8]) -> RasterImage {
    RasterImage(
        width: width, height: height, channels: colour.count,
        pixels: Array([[UInt8]](repeating: colour, count: width * height).joined()))
}

/// A path that does not exist yet, alone in a new parent folder so leftovers beside it can be listed.
private func temporaryFolder() throws -> String {
    let parent = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-projector-\(UUID())").path
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    return parent + "/export"
}

/// Staging or set-aside folders left beside `folder`.
private func siblings(of folder: String) throws -> [String] {
    let name = (folder as NSString).lastPathComponent
    return try FileManager.default.contentsOfDirectory(atPath: (folder as NSString).deletingLastPathComponent)
        .filter { $0.hasPrefix(name + ".") }
}

private func text(_ folder: String, _ name: String? = nil) throws -> String {
    try String(contentsOfFile: name.map { folder + "/" + $0 } ?? folder, encoding: .utf8)
}
