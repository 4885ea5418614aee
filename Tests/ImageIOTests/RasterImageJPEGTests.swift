import Foundation
import ImageIO
import Testing

@Suite("JPEG reading")
struct RasterImageJPEGTests {
    let directory: URL

    init() throws {
        directory = try makeTemporaryDirectory("jpeg")
    }

    /// Pillow's decode of the same file (both are libjpeg-turbo with its default islow IDCT and fancy upsampling,
    /// so the pixels agree exactly).
    @Test(arguments: [("gray.jpg", 1), ("rgb.jpg", 3), ("progressive.jpg", 3)])
    func decodesLikePillow(name: String, channels: Int) throws {
        let image = try RasterImage(jpegFile: fixturePath(name))
        let expected = try NPYFile.read(fixturePath(name + ".npy"))
        #expect(image.channels == channels)
        #expect([image.height, image.width] == Array(expected.shape.dimensions.prefix(2)))
        #expect(image.pixels.map(Float.init) == expected.values)
    }

    @Test func cmykIsRefused() throws {
        let path = try fixturePath("cmyk.jpg")
        let error = try #require(throws: ImageIOError.self) { try RasterImage(jpegFile: path) }
        #expect(error.path == path)
        #expect(error.reason.contains("CMYK"))
    }

    /// A 241-byte file the fuzzer found, declaring 65,280 × 65,496 pixels: refused from its header, before libjpeg
    /// allocates anything for it.
    @Test func declaredSizesBeyondTheLimitAreRefusedFromTheHeader() throws {
        let path = try fixturePath("fuzz_declares_65280x65496.jpg")
        let error = try #require(throws: ImageIOError.self) { try RasterImage(jpegFile: path) }
        #expect(error.reason == "declares 65280x65496 pixels (12826736640 bytes decoded); images are at most 268435456 "
            + "bytes decoded", "\(error)")
    }

    /// Truncated files are refused wherever the cut falls.
    ///
    /// Cut inside the entropy data, libjpeg only warns and pads with gray; cut inside the headers, it fails. Both must come back as errors naming the file, and neither may end the process.
    @Test(arguments: [0.5, 0.9, 0.1])
    func truncatedFilesAreRefused(fraction: Double) throws {
        let bytes = try fixtureBytes("rgb.jpg")
        let path = try writeFile(
            Array(bytes.prefix(Int(Double(bytes.count) * fraction))), named: "cut\(fraction).jpg", in: directory)
        let error = try #require(throws: ImageIOError.self) { try RasterImage(jpegFile: path) }
        #expect(error.description.hasPrefix(path + ": "))
        #expect(!error.reason.isEmpty)
    }

    @Test func corruptHeadersAreRefusedAndLaterFilesStillDecode() throws {
        var bytes = try fixtureBytes("rgb.jpg")
        bytes.replaceSubrange(2..<bytes.count, with: [0xFF, 0x01, 0x02, 0x03] + Array(repeating: 0x55, count: 64))
        let path = try writeFile(bytes, named: "corrupt.jpg", in: directory)
        for _ in 0..<3 {
            let error = try #require(throws: ImageIOError.self) { try RasterImage(jpegFile: path) }
            #expect(error.path == path)
        }
        #expect(try RasterImage(jpegFile: fixturePath("gray.jpg")).width == 24)
    }

    @Test func corruptEntropyDataIsRefused() throws {
        // Stray restart markers after the start of scan: libjpeg warns "Corrupt JPEG data" and would fill with gray.
        var bytes = try fixtureBytes("rgb.jpg")
        let startOfScan = try #require((0..<(bytes.count - 1)).last { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        for offset in stride(from: startOfScan + 20, to: bytes.count - 10, by: 5) {
            bytes[offset] = 0xFF
            bytes[offset + 1] = 0xD3
        }
        let path = try writeFile(bytes, named: "entropy.jpg", in: directory)
        let error = try #require(throws: ImageIOError.self) { try RasterImage(jpegFile: path) }
        #expect(error.description.hasPrefix(path + ": Corrupt JPEG data"), "\(error)")
    }

    @Test func missingFilesNameThePath() throws {
        let path = directory.appendingPathComponent("none.jpg").path
        let error = try #require(throws: ImageIOError.self) { try RasterImage(jpegFile: path) }
        #expect(error.description == path + ": No such file or directory")
    }
}

@Suite("Reading PNG or JPEG by content")
struct RasterImageContentsTests {
    let directory: URL

    init() throws {
        directory = try makeTemporaryDirectory("contents")
    }

    @Test func theSignatureDecidesNotTheName() throws {
        let jpegAsPNG = try writeFile(try fixtureBytes("rgb.jpg"), named: "photo.png", in: directory)
        #expect(try RasterImage(contentsOf: jpegAsPNG) == RasterImage(jpegFile: fixturePath("rgb.jpg")))
        let image = RasterImage(width: 2, height: 1, channels: 4, pixels: [1, 2, 3, 4, 5, 6, 7, 8])
        let png = directory.appendingPathComponent("picture.png").path
        try image.writePNG(to: png)
        let pngAsJPEG = directory.appendingPathComponent("picture.jpg").path  // writePNG itself refuses that name
        try FileManager.default.copyItem(atPath: png, toPath: pngAsJPEG)
        #expect(try RasterImage(contentsOf: pngAsJPEG) == image)
    }

    @Test(arguments: [Array("GIF89a....".utf8), [], [0xFF, 0xD8], [0x89, 0x50, 0x4E, 0x47]])
    func otherFilesAreRefused(bytes: [UInt8]) throws {
        let path = try writeFile(bytes, named: "other-\(bytes.count).img", in: directory)
        let error = try #require(throws: ImageIOError.self) { try RasterImage(contentsOf: path) }
        #expect(error.description == path + ": not a PNG or JPEG image")
    }

    @Test func unreadablePathsSayWhy() throws {
        let error = try #require(throws: ImageIOError.self) { try RasterImage(contentsOf: directory.path) }
        #expect(error.description == directory.path + ": not a regular file (a folder)")
    }
}
