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
