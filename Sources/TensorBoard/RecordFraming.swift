/// TFRecord framing, the container of TensorBoard's event files: each record is its length (UInt64, little-endian),
/// the length's masked CRC-32C, the data, and the data's masked CRC-32C.
public enum RecordFraming {
    public struct CorruptRecord: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let reason: String
        public var description: String { "TFRecord at byte \(offset): \(reason)" }
    }

    /// `data` framed as one record.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }

    /// The records of `bytes`, every checksum verified.
    /// - Throws: `CorruptRecord` for a truncated record or a checksum that does not match.
    public static func records(in bytes: [UInt8]) throws(CorruptRecord) -> [[UInt8]] {
        var records: [[UInt8]] = [], offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else { throw CorruptRecord(offset: offset, reason: "truncated header") }
            let header = Array(bytes[offset..<(offset + 8)])
            guard readLittleEndian(bytes, at: offset + 8, count: 4) == UInt64(CRC32C.masked(header)) else {
                throw CorruptRecord(offset: offset, reason: "length checksum mismatch")
            }
            let length = readLittleEndian(bytes, at: offset, count: 8)
            let start = offset + 12
            guard length <= UInt64(bytes.count - start), bytes.count - start - Int(length) >= 4 else {
                throw CorruptRecord(offset: offset, reason: "truncated data of \(length) bytes")
            }
            let data = Array(bytes[start..<(start + Int(length))])
            guard readLittleEndian(bytes, at: start + Int(length), count: 4) == UInt64(CRC32C.masked(data)) else {
                throw CorruptRecord(offset: offset, reason: "data checksum mismatch")
            }
            records.append(data)
            offset = start + Int(length) + 4
        }
        return records
    }

    private static func littleEndian<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
        (0..<(Value.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    private static func readLittleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << ($1 * 8) }
    }
}
