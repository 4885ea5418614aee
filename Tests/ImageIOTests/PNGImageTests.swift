import Foundation
import ImageIO
import Testing

@Suite("PNG reading and writing")
struct PNGImageTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-png-\(UUID())")

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    @Test(arguments: [1, 3, 4])
    func roundTrips(channels: Int) throws {
        let image = PNGImage(width: 5, height: 3, channels: channels,
                             pixels: (0..<(15 * channels)).map { UInt8(($0 * 37) % 256) })
        let path = directory.appendingPathComponent("image\(channels).png").path
        try image.write(to: path)
        #expect(try PNGImage(contentsOf: path) == image)
    }

    @Test func unreadableFilesNameThePath() throws {
        let path = directory.appendingPathComponent("not-a.png").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: ImageIOError.self) { try PNGImage(contentsOf: path) }
        #expect(error.description.hasPrefix(path + ": "))
        #expect(throws: ImageIOError.self) { try PNGImage(contentsOf: directory.appendingPathComponent("none.png").path) }
    }

    @Test func failedWritesLeaveNoFile() throws {
        let path = directory.appendingPathComponent("missing-folder/out.png").path
        let image = PNGImage(width: 1, height: 1, channels: 1, pixels: [0])
        #expect(throws: ImageIOError.self) { try image.write(to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
