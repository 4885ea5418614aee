import Foundation
import ImageIO
import Testing

@Suite("PNG reading and writing")
struct RasterImagePNGTests {
    let directory: URL

    init() throws {
        directory = try makeTemporaryDirectory("png")
    }

    @Test(arguments: [1, 3, 4])
    func roundTrips(channels: Int) throws {
        let image = RasterImage(
            width: 5, height: 3, channels: channels, pixels: (0..<(15 * channels)).map { UInt8(($0 * 37) % 256) })
        let path = directory.appendingPathComponent("image\(channels).png").path
        try image.writePNG(to: path)
        #expect(try RasterImage(pngFile: path) == image)
        #expect(try RasterImage(contentsOf: path) == image)
    }

    @Test func unreadableFilesNameThePath() throws {
        let path = try writeFile(Array("hello".utf8), named: "not-a.png", in: directory)
        let error = try #require(throws: ImageIOError.self) { try RasterImage(pngFile: path) }
        #expect(error.description.hasPrefix(path + ": "))
        let missing = directory.appendingPathComponent("none.png").path
        let missingError = try #require(throws: ImageIOError.self) { try RasterImage(pngFile: missing) }
        #expect(missingError.description == missing + ": No such file or directory")
    }

    @Test func truncatedFilesAreRefused() throws {
        let path = directory.appendingPathComponent("whole.png").path
        try RasterImage(width: 4, height: 4, channels: 3, pixels: Array(repeating: 9, count: 48)).writePNG(to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let cut = try writeFile(Array(bytes.prefix(bytes.count - 20)), named: "cut.png", in: directory)
        let error = try #require(throws: ImageIOError.self) { try RasterImage(pngFile: cut) }
        #expect(error.path == cut)
    }

    /// A header declaring 100000 × 100000 pixels, or a chunk longer than the file, is refused before anything is
    /// allocated for it (each once held gigabytes before its error).
    @Test func declaredSizesAreCheckedBeforeAllocation() throws {
        let path = directory.appendingPathComponent("small.png").path
        try RasterImage(width: 4, height: 4, channels: 3, pixels: Array(repeating: 9, count: 48)).writePNG(to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // IHDR's data starts at byte 16: width and height, big-endian; its CRC covers type and data (12...28).
        for (offset, value) in [(16, UInt32(100_000)), (20, UInt32(100_000))] {
            for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(k))) }
        }
        let crc = Self.crc32(bytes[12..<29])
        for k in 0..<4 { bytes[29 + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(k))) }
        let huge = try writeFile(bytes, named: "huge.png", in: directory)
        let error = try #require(throws: ImageIOError.self) { try RasterImage(pngFile: huge) }
        #expect(error.description.contains("declares 100000×100000 pixels"), "\(error)")

        var long = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        long[33...36] = [0x7F, 0xFF, 0xFF, 0xF0]  // the chunk after IHDR claims 2 GB
        let chunk = try writeFile(long, named: "chunk.png", in: directory)
        let chunkError = try #require(throws: ImageIOError.self) { try RasterImage(pngFile: chunk) }
        #expect(chunkError.description.contains("at byte 33 declares 2147483632 bytes"), "\(chunkError)")
    }

    /// The CRC-32 PNG chunks carry (ISO 3309, reflected polynomial 0xEDB88320).
    private static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test func failedWritesLeaveNoFile() throws {
        let image = RasterImage(width: 1, height: 1, channels: 1, pixels: [0])
        let path = directory.appendingPathComponent("missing-folder/out.png").path
        #expect(throws: ImageIOError.self) { try image.writePNG(to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
        // Renaming over a directory fails after the temporary file is written: it must be gone too.
        let folder = directory.appendingPathComponent("folder.png")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let error = try #require(throws: ImageIOError.self) { try image.writePNG(to: folder.path) }
        #expect(error.path == folder.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["folder.png"])
    }
}
