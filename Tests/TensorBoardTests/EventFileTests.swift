import Foundation
import ImageIO
import Testing
@testable import TensorBoard

/// TensorBoard's event files as ConvLens writes them: the checksum against published vectors, the framing and the
/// events read back. Tools/read_tensorboard.py reads a real run's log with TensorBoard's own EventAccumulator.
@Suite("TensorBoard event files")
struct EventFileTests {
    /// RFC 3720 (iSCSI) appendix B.4's CRC-32C examples, and the customary check value of "123456789".
    @Test func crc32cMatchesThePublishedVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map(UInt8.init)) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map(UInt8.init)) == 0x113F_DB5C)
    }

    /// TFRecord's mask: the checksum rotated right by 15 bits plus 0xa282ead8, so it is undone by the inverse.
    @Test func theMaskRotatesAndOffsets() {
        let crc = CRC32C.checksum(Array("123456789".utf8))
        let masked = CRC32C.masked(Array("123456789".utf8))
        let unmasked = masked &- 0xA282_EAD8
        #expect(((unmasked >> 17) | (unmasked << 15)) == crc)
    }

    @Test func framedRecordsReadBackAndCorruptionIsCaught() throws {
        let records: [[UInt8]] = [[], Array("an event".utf8), (0..<300).map { UInt8($0 % 251) }]
        var bytes = records.flatMap(RecordFraming.frame)
        #expect(bytes.count == records.reduce(0) { $0 + 16 + $1.count })
        #expect(try RecordFraming.records(in: bytes) == records)
        bytes[30] ^= 0x10
        #expect(throws: RecordFraming.CorruptRecord.self) { try RecordFraming.records(in: bytes) }
        #expect(throws: RecordFraming.CorruptRecord.self) { try RecordFraming.records(in: Array(bytes.prefix(20))) }
    }

    /// A log written with a fixed clock: the version event first, then the scalars and a PNG that decodes to the
    /// pixels written.
    @Test func eventsReadBackAsWritten() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-tb-\(UUID())").path
        let writer = try EventWriter(directory: folder, clock: { 1_700_000_000.5 })
        #expect((writer.path as NSString).lastPathComponent.hasPrefix("events.out.tfevents.1700000000."))
        try writer.scalars([("objective/channel_3", 1.25), ("objective/channel_7", -2)], step: 16)
        let picture = RasterImage(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 13) })
        try writer.images([("filters", picture)], step: 32)

        let events = try RecordFraming.records(in: Array(try Data(contentsOf: URL(fileURLWithPath: writer.path))))
            .map { try Tensorboard_Event(serializedBytes: $0) }
        #expect(events.count == 3)
        #expect(events[0].fileVersion == "brain.Event:2" && events[0].wallTime == 1_700_000_000.5)
        #expect(events[1].step == 16)
        #expect(events[1].summary.value.map(\.tag) == ["objective/channel_3", "objective/channel_7"])
        #expect(events[1].summary.value.map(\.simpleValue) == [1.25, -2])
        let image = events[2].summary.value[0].image
        #expect(events[2].step == 32 && (image.width, image.height, image.colorspace) == (3, 2, 3))
        let decoded = try RasterImage(encoded: Array(image.encodedImageString), source: "summary")
        #expect(decoded.pixels == picture.pixels)
    }

    @Test func aFileWhereTheFolderShouldBeIsRefused() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-tb-file-\(UUID())").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let error = try #require(throws: TensorBoardError.self) { try EventWriter(directory: file) }
        #expect(error.description.hasSuffix("is a file; --tensorboard takes a folder"))
    }
}
