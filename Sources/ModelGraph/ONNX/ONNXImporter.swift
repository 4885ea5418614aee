import FileAccess
import Foundation
import SwiftProtobuf
import TensorOps

/// Reads an ONNX model into a `Graph`: every node lowered to a ConvLens operation, BatchNormalization folded into
/// the Conv before it where it can be, and every shape checked when the input's size is fixed. Anything
/// ConvLens cannot run is an error naming the node; nothing is half-loaded.
public enum ONNXImporter {
    /// Default-domain opsets whose semantics the importer implements. Before 11, Pad's pads and value and Clip's bounds
    /// are attributes (read as such), and BatchNormalization's `spatial` must be 1 (before 9); Squeeze's and
    /// Unsqueeze's axes become inputs at 13 (ReduceSum's too), ReduceMean's and ReduceMax's at 18, Split's sizes at
    /// 13 (`num_outputs` at 18); GroupNormalization scales per channel from 21. Opsets 22–28 (the newest
    /// onnxruntime 1.32 runs) change the ops ConvLens reads only by adding element types (bfloat16, 4-, 6- and
    /// 8-bit floats) and Range's `stash_type`; tensors of those types are refused by name.
    public static let supportedOpsets: ClosedRange<Int> = 7...28

    /// ONNX op types the importer reads: those it lowers to backend ops and those it folds at load.
    public static var supportedOps: [String] { Set(loweredOps + foldedOps).sorted() }

    /// ONNX op types that run as backend ops (`GraphBuilder.loweredOps`, beside the lowering itself).
    public static var loweredOps: [String] { GraphBuilder.loweredOps }

    /// ONNX op types evaluated at load when they compute on shapes and constants (`GraphBuilder.foldedOps`).
    public static var foldedOps: [String] { GraphBuilder.foldedOps.sorted() }

    /// Loads the model at `path`.
    /// - Throws: `ModelError` (unreadable file, not ONNX, unsupported opset or op, bad tensor, shape mismatch).
    public static func load(contentsOf path: String) throws -> Graph {
        let bytes: [UInt8]
        do {
            bytes = try FileAccess.read(path)  // a regular file only: never a FIFO or a device that never ends
        } catch {
            throw ModelError.notONNX(source: path, reason: "cannot read the file: \(error.reason)")
        }
        return try load(data: Data(bytes), source: path, externalDataFolder: ExternalDataFolder(modelPath: path))
    }

    /// Loads a model from its bytes; `source` names it in messages. Tensors stored in external files are refused:
    /// there is no folder to read them from.
    public static func load(data: Data, source: String) throws -> Graph {
        try load(data: data, source: source, externalDataFolder: ExternalDataFolder(modelPath: nil))
    }

    private static func load(data: Data, source: String, externalDataFolder: ExternalDataFolder) throws -> Graph {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ModelError.notONNX(source: source, reason: "protobuf decoding failed: \(error)")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw ModelError.notONNX(source: source, reason: "it has no graph")
        }
        let opset = try defaultOpset(model, source: source)
        let decoded = try ONNXSource(model, opset: opset, external: externalDataFolder)
        if let shape = decoded.input.shape(batch: 1) { return try decoded.graph(for: shape) }
        // Height or width symbolic: a plain CNN lowers without shapes; a model with shape computations, slices or
        // resizes is planned for a provisional size and planned again for each input size it meets.
        do {
            return try decoded.graph(for: nil)
        } catch let unplanned {
            guard let provisional = decoded.provisionalInputShape(),
                  let graph = try? decoded.graph(for: provisional) else { throw unplanned }
            return graph
        }
    }

    /// The default-domain opset, checked against `supportedOpsets`.
    private static func defaultOpset(_ model: Onnx_ModelProto, source: String) throws -> Int {
        guard let entry = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ModelError.notONNX(source: source, reason: "it imports no ai.onnx opset")
        }
        let version = Int(entry.version)
        guard supportedOpsets.contains(version) else {
            throw ModelError.unsupportedOpset(
                source: source, domain: entry.domain, version: version, supported: supportedOpsets)
        }
        return version
    }
}
