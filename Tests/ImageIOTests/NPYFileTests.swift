import Foundation
import ImageIO
import TensorOps
import Testing

@Suite("NPY reading and writing")
struct NPYFileTests {
    let directory: URL
    /// The array in the `*_f4.npy` matrix fixtures: `(arange(6).reshape(2, 3) - 2.5) * 0.75`.
    let matrix = HostTensor(shape: [2, 3], values: (0..<6).map { (Float($0) - 2.5) * 0.75 })

    init() throws {
        directory = try makeTemporaryDirectory("npy")
    }

    @Test(arguments: ["v1_f4.npy", "v2_f4.npy", "v3_f4.npy"])
    func readsEveryFormatVersion(name: String) throws {
        #expect(try NPYFile.read(fixturePath(name)) == matrix)
    }

    @Test func readsFloat64AsFloat() throws {
        let tensor = try NPYFile.read(fixturePath("v1_f8.npy"))
        #expect(tensor == HostTensor(shape: [2, 2], values: [Float(0.1), -2, Float(1e-3), 3.5e6]))
    }

    @Test func readsScalarsVectorsAndEmptyArrays() throws {
        #expect(try NPYFile.read(fixturePath("scalar_f4.npy")) == HostTensor(shape: [], values: [3.5]))
        #expect(
            try NPYFile.read(fixturePath("vector_f4.npy")) == HostTensor(shape: [5], values: [1, -2, 0.5, 1e-8, 7]))
        #expect(try NPYFile.read(fixturePath("empty_f4.npy")) == HostTensor(shape: [0, 3], values: []))
    }

    @Test(arguments: [
        ("fortran_f4.npy", "Fortran-ordered"), ("int64.npy", "unsupported dtype '<i8'"),
        ("big_endian_f4.npy", "unsupported dtype '>f4'"),
    ])
    func refusesWhatItCannotRepresent(name: String, reason: String) throws {
        let path = try fixturePath(name)
        let error = try #require(throws: ImageIOError.self) { try NPYFile.read(path) }
        #expect(error.description.hasPrefix(path + ": "))
        #expect(error.reason.contains(reason), "\(error)")
    }

    /// Byte for byte what `np.save` wrote, padding included.
    @Test(arguments: ["v1_f4.npy", "scalar_f4.npy", "vector_f4.npy", "empty_f4.npy"])
    func writesWhatNumPyWrites(name: String) throws {
        let tensor = try NPYFile.read(fixturePath(name))
        let path = directory.appendingPathComponent(name).path
        try NPYFile.write(tensor, to: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == (try fixtureBytes(name)))
    }

    @Test(arguments: [[], [7], [2, 3], [1, 2, 3, 4, 5], [123_456_789_012, 0]] as [[Int]])
    func roundTrips(shape: [Int]) throws {
        let count = TensorShape(shape).count
        let tensor = HostTensor(shape: TensorShape(shape), values: (0..<count).map { Float($0) * -1.25 + 0.1 })
        let path = directory.appendingPathComponent("round-\(shape.count).npy").path
        try NPYFile.write(tensor, to: path)
        #expect(try NPYFile.read(path) == tensor)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect((10 + Int(bytes[8]) + Int(bytes[9]) << 8) % 64 == 0, "data must start at a multiple of 64 bytes")
    }

    @Test func headerParsingIsRobustToSpacingQuotesAndTrailingCommas() throws {
        let data: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]  // 1.0, 2.0
        for header in [
            "{'descr':'<f4','fortran_order':False,'shape':(2,)}",
            "{ \"shape\" : ( 2 , ) ,\n\t\"fortran_order\" : False , \"descr\" : \"<f4\" , }   \n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [2L], }",
        ] {
            let path = try writeFile(npyBytes(header: header, data: data), named: "header.npy", in: directory)
            #expect(try NPYFile.read(path).values == [1, 2], "\(header)")
        }
    }

    @Test func everyTruncationIsRefused() throws {
        let bytes = try fixtureBytes("v1_f4.npy")
        for length in 0..<bytes.count {
            let path = try writeFile(Array(bytes.prefix(length)), named: "cut.npy", in: directory)
            let error = try #require(throws: ImageIOError.self, "\(length) bytes") { try NPYFile.read(path) }
            #expect(error.description.hasPrefix(path + ": "))
            #expect(length < 128 || error.reason.hasPrefix("truncated: shape (2, 3) of '<f4' needs 24 bytes"))
        }
    }

    @Test(
        arguments: [
            (0, 0x92, "bad magic"), (6, 4, "unsupported format version 4.0"),
            (50, UInt8(ascii: "?"), "malformed header"), (12, UInt8(ascii: "x"), "no 'descr' key"),
        ] as [(Int, UInt8, String)])
    func corruptedFilesAreRefused(offset: Int, byte: UInt8, reason: String) throws {
        var bytes = try fixtureBytes("v1_f4.npy")
        bytes[offset] = byte
        let path = try writeFile(bytes, named: "corrupt.npy", in: directory)
        let error = try #require(throws: ImageIOError.self) { try NPYFile.read(path) }
        #expect(error.description.hasPrefix(path + ": "))
        #expect(error.reason.contains(reason), "\(error)")
    }

    @Test func extraDataIsRefused() throws {
        let path = try writeFile(try fixtureBytes("v1_f4.npy") + [0, 0, 0, 0], named: "long.npy", in: directory)
        let error = try #require(throws: ImageIOError.self) { try NPYFile.read(path) }
        #expect(
            error.reason == "data size does not match the shape: shape (2, 3) of '<f4' needs 24 bytes of data, "
                + "the file has 28")
    }

    @Test func failedWritesLeaveNoFile() throws {
        let path = directory.appendingPathComponent("missing-folder/out.npy").path
        let error = try #require(throws: ImageIOError.self) { try NPYFile.write(matrix, to: path) }
        #expect(error.description == path + ": No such file or directory")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

/// A format 1.0 file with `header` (padded as NumPy would) and raw `data`.
private func npyBytes(header: String, data: [UInt8]) -> [UInt8] {
    var text = Array(header.utf8)
    text += Array(repeating: UInt8(ascii: " "), count: 63 - (10 + text.count) % 64) + [UInt8(ascii: "\n")]
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text + data
}
