import FileAccess
import Foundation

/// Where a model's external tensor data may come from: files in the model's own folder, as ONNX's external data
/// (`location`, `offset`, `length`) names them — PyTorch's default exporter writes every weight to `model.onnx.data`.
/// Each file is memory-mapped once and sliced per tensor, so its bytes are copied only when decoded.
final class ExternalDataFolder {
    /// The folder, its symbolic links resolved; nil for a model loaded from memory, which can have no side files.
    private let folder: URL?
    private var mapped: [String: Data] = [:]

    init(modelPath: String?) {
        folder = modelPath.map {
            URL(fileURLWithPath: $0).deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL
        }
    }

    /// The bytes `tensor` keeps outside the model file.
    /// - Throws: `ModelError.badTensor` naming the tensor: no folder to read from, a missing or malformed
    ///   `location`, `offset` or `length`, a location outside the model's folder (absolute, `..`, or a symbolic link
    ///   that leads out), a missing or non-regular file, or a file shorter than offset + length.
    func bytes(of tensor: Onnx_TensorProto, name: String) throws(ModelError) -> Data {
        func refuse(_ reason: String) -> ModelError { .badTensor(name: name, reason: reason) }
        var fields: [String: String] = [:]
        for entry in tensor.externalData { fields[entry.key] = entry.value }
        guard let location = fields["location"], !location.isEmpty else {
            throw refuse("its data is external but names no location")
        }
        guard let folder else {
            throw refuse("its data is in an external file ('\(location)'), and a model read from memory has no folder "
                + "to find it in; load the model from its file")
        }
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !parts.contains("..") else {
            throw refuse("external data location '\(location)' is outside the model's folder \(folder.path)")
        }
        let file = folder.appendingPathComponent(location).resolvingSymlinksInPath().standardizedFileURL
        guard file.path.hasPrefix(folder.path.hasSuffix("/") ? folder.path : folder.path + "/") else {
            throw refuse("external data location '\(location)' leads outside the model's folder \(folder.path) "
                + "(to \(file.path))")
        }
        let offset = try Self.byteCount(fields["offset"], default: 0, field: "offset", refuse)
        let data = try mappedFile(file, location: location, refuse)
        let length = try Self.byteCount(fields["length"], default: data.count - min(offset, data.count), field: "length", refuse)
        guard offset <= data.count, length <= data.count - offset else {
            throw refuse("external data file '\(location)' has \(data.count) bytes; offset \(offset) + length \(length) "
                + "needs \(offset + length)")
        }
        return data.subdata(in: offset..<offset + length)
    }

    private func mappedFile(_ file: URL, location: String, _ refuse: (String) -> ModelError) throws(ModelError) -> Data {
        if let data = mapped[file.path] { return data }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) else {
            throw refuse("its external data file '\(location)' does not exist (looked for \(file.path))")
        }
        guard !isDirectory.boolValue,
              (try? FileManager.default.attributesOfItem(atPath: file.path)[.type] as? FileAttributeType) == .typeRegular
        else {
            throw refuse("its external data '\(location)' is not a regular file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: file, options: .alwaysMapped)
        } catch {
            throw refuse("its external data file '\(location)' cannot be read: \(error.localizedDescription)")
        }
        mapped[file.path] = data
        FileAccess.noteInput(file.path)  // an output never replaces the weights it was computed from
        return data
    }

    /// A non-negative decimal byte count from an external-data field, or `fallback` when the field is absent.
    private static func byteCount(_ text: String?, default fallback: Int, field: String,
                                  _ refuse: (String) -> ModelError) throws(ModelError) -> Int {
        guard let text else { return fallback }
        guard let value = Int(text), value >= 0 else {
            throw refuse("external data \(field) '\(text)' is not a byte count")
        }
        return value
    }
}
