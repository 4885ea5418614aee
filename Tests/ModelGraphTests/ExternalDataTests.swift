import Foundation
@testable import ModelGraph
import ReferenceBackend
import TensorOps
import Testing

/// Tensors whose bytes live beside the model (`location`, `offset`, `length`), as PyTorch's default exporter writes
/// them: read from the model's folder, and every way out of it or past a file's end refused naming the tensor.
@Suite("ONNX external data")
struct ExternalDataTests {
    /// A 3 → 4 channel 3×3 convolution whose weight (108 floats) sits in `weights.bin` at byte 16, after 16 bytes
    /// of something else, as exporters that pack several tensors into one file lay them out.
    static let weightValues: [Float] = (0..<108).map { Float($0 % 13) / 13 - 0.5 }

    /// A fresh folder with the model and its side file; `fields` override the external-data entries.
    static func writeModel(fields: [String: String] = [:], sideFile: Data? = nil) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var weight = Onnx_TensorProto()
        weight.name = "w"
        weight.dims = [4, 3, 3, 3]
        weight.dataType = 1
        weight.dataLocation = .external
        let entries = ["location": "weights.bin", "offset": "16", "length": "432"].merging(fields) { $1 }
        weight.externalData = entries.sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            (entry.key, entry.value) = (key, value)
            return entry
        }
        let model = TinyModel(nodes: [TinyModel.node("Conv", "conv", inputs: ["input", "w"], output: "y")],
                              initializers: [weight])
        try model.data().write(to: folder.appendingPathComponent("model.onnx"))
        let weights = weightValues.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        try (sideFile ?? Data(repeating: 0xAB, count: 16) + Data(weights)).write(to: folder.appendingPathComponent("weights.bin"))
        return folder
    }

    static func loadError(_ folder: URL) throws -> String {
        let error = try #require(throws: ModelError.self) {
            try ONNXImporter.load(contentsOf: folder.appendingPathComponent("model.onnx").path)
        }
        return error.description
    }

    @Test func weightsAreReadFromTheSideFileAtTheirOffset() throws {
        let folder = try Self.writeModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        let graph = try ONNXImporter.load(contentsOf: folder.appendingPathComponent("model.onnx").path)
        #expect(graph.constants["w"]?.values == Self.weightValues)
        #expect(graph.constants["w"]?.shape == [4, 3, 3, 3])
    }

    @Test func aModelReadFromMemoryCannotReachASideFile() throws {
        let folder = try Self.writeModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Data(contentsOf: folder.appendingPathComponent("model.onnx"))
        let error = try #require(throws: ModelError.self) { try ONNXImporter.load(data: data, source: "memory") }
        #expect(error.description.hasPrefix("tensor 'w': its data is in an external file ('weights.bin')"))
    }

    @Test(arguments: [
        (["location": "../weights.bin"], "external data location '../weights.bin' is outside the model's folder"),
        (["location": "/etc/passwd"], "external data location '/etc/passwd' is outside the model's folder"),
        (["location": "missing.bin"], "its external data file 'missing.bin' does not exist"),
        (["offset": "400"], "external data file 'weights.bin' has 448 bytes; offset 400 + length 432 needs 832"),
        (["length": "440"], "external data file 'weights.bin' has 448 bytes; offset 16 + length 440 needs 456"),
        (["length": "428"], "raw_data has 428 bytes, dimensions [4, 3, 3, 3] need 432"),
        (["offset": "-4"], "external data offset '-4' is not a byte count"),
        (["location": ""], "its data is external but names no location"),
    ])
    func badReferencesAreRefusedNamingTheTensor(fields: [String: String], message: String) throws {
        let folder = try Self.writeModel(fields: fields)
        defer { try? FileManager.default.removeItem(at: folder) }
        let description = try Self.loadError(folder)
        #expect(description.hasPrefix("tensor 'w': ") && description.contains(message), "\(description)")
    }

    @Test func aShortSideFileIsRefused() throws {
        let folder = try Self.writeModel(sideFile: Data(repeating: 0, count: 100))
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try Self.loadError(folder).contains("has 100 bytes; offset 16 + length 432 needs 448"))
    }

    /// A symbolic link inside the folder that leads out of it is refused like `..`; one that stays inside is read.
    @Test func symbolicLinksMayNotLeadOutOfTheFolder() throws {
        let folder = try Self.writeModel(fields: ["location": "link.bin"])
        let outside = try Self.writeModel()
        defer {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: outside)
        }
        let link = folder.appendingPathComponent("link.bin")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside.appendingPathComponent("weights.bin"))
        #expect(try Self.loadError(folder).contains("external data location 'link.bin' leads outside the model's folder"))

        try FileManager.default.removeItem(at: link)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "weights.bin")
        let graph = try ONNXImporter.load(contentsOf: folder.appendingPathComponent("model.onnx").path)
        #expect(graph.constants["w"]?.values == Self.weightValues)
    }

    @Test func aFolderIsNotASideFile() throws {
        let folder = try Self.writeModel(fields: ["location": "sub"])
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        #expect(try Self.loadError(folder).contains("its external data 'sub' is not a regular file"))
    }

    /// Every prefix of the side file, and bit flips anywhere in the model file (its external-data fields among
    /// them), are refused with a ModelError or still load; nothing crashes or reads outside the folder.
    @Test func truncatedSideFilesAndFlippedModelsAreRefusedOrStillLoad() throws {
        let folder = try Self.writeModel()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (modelFile, sideFile) = (folder.appendingPathComponent("model.onnx"), folder.appendingPathComponent("weights.bin"))
        let (model, side) = (try Data(contentsOf: modelFile), try Data(contentsOf: sideFile))
        for cut in stride(from: 0, to: side.count, by: 7) {
            try side.prefix(cut).write(to: sideFile)
            #expect(throws: ModelError.self, "side file cut at \(cut) of \(side.count)") {
                try ONNXImporter.load(contentsOf: modelFile.path)
            }
        }
        try side.write(to: sideFile)
        var random = SeededGenerator(seed: 17)
        for _ in 0..<200 {
            var flipped = model
            let position = Int(random.next() % UInt64(model.count))
            flipped[position] ^= UInt8(1 << (random.next() % 8))
            try flipped.write(to: modelFile)
            do {
                let graph = try ONNXImporter.load(contentsOf: modelFile.path)
                #expect(!graph.nodes.isEmpty)
            } catch is ModelError {
                // Refused in one line: what a flipped structure or external-data field must give.
            }
        }
    }
}
