import Foundation
import ImageIO
import ModelGraph
import TensorOps

/// `forward --save-values DIR`: the activations of the last forward pass as .npy files, for comparing ConvLens
/// with another framework value by value (where two runs start to drift, or which way a ReLU or max-pool decided).
///
/// Writes each value once, as `DIR/<n>_<name>.npy` (the name with characters outside `[A-Za-z0-9._-]` replaced by
/// `_`, `n` keeping files apart), and `DIR/values.tsv`, one line per node and role: the node's name and ONNX op
/// type, the role (`input0`, `input1` … or `output`), the value's name, its shape and its file. Constants (weights)
/// are not written. Node names and value names are the ONNX file's, so a script can find the node it evaluates.
struct ValueDump {
    /// ONNX op types whose inputs and outputs are written; every node's when empty.
    var opTypes: Set<String>

    /// The nodes `opTypes` selects, in execution order.
    /// - Throws: `CommandError` when an asked-for op type has no node in the graph (listing the types it has).
    func selectedNodes(of graph: Graph) throws -> [Node] {
        guard !opTypes.isEmpty else { return graph.nodes }
        let present = Set(graph.nodes.map(\.opType))
        if let missing = opTypes.subtracting(present).sorted().first {
            throw CommandError("--values-for \(missing): the model has no node of that op type (it has: "
                               + present.sorted().joined(separator: ", ") + ")")
        }
        return graph.nodes.filter { opTypes.contains($0.opType) }
    }

    /// Writes the selected values of `executor`'s last forward pass into `folder` (created if missing) and
    /// returns how many files it wrote.
    func write<B: Backend>(_ executor: GraphExecutor<B>, into folder: String) throws -> Int {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), !isFolder.boolValue {
            throw CommandError("--save-values \(folder): exists and is not a folder")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let graph = executor.graph
        var files: [String: (name: String, shape: String)] = [:]
        var lines = ["node\top\trole\tvalue\tshape\tfile"]
        for node in try selectedNodes(of: graph) {
            let activations = node.inputs.enumerated().filter { graph.constants[$0.element] == nil }
            let roles = activations.map { ("input\($0.offset)", $0.element) } + [("output", node.output)]
            for (role, value) in roles {
                if files[value] == nil {  // a value several nodes read is downloaded and written once
                    let tensor = try executor.backend.download(try executor.value(value))
                    let file = "\(files.count)_\(Self.fileSafe(value)).npy"
                    try NPYFile.write(tensor, to: (folder as NSString).appendingPathComponent(file))
                    files[value] = (file, tensor.shape.dimensions.map(String.init).joined(separator: "x"))
                }
                guard let (file, shape) = files[value] else { continue }
                let fields = [node.name, node.opType, role, value, shape, file]
                lines.append(fields.map(Self.oneField).joined(separator: "\t"))
            }
        }
        let manifest = (folder as NSString).appendingPathComponent("values.tsv")
        try writeFileAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: manifest)
        return files.count
    }

    /// `text` with tabs and line breaks as spaces, so it stays one field of one TSV line.
    static func oneField(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }

    /// `name` with every character outside `[A-Za-z0-9._-]` replaced by `_` (ONNX names hold `/`, `:` …).
    static func fileSafe(_ name: String) -> String {
        let kept = name.unicodeScalars.prefix(80).map { scalar -> Character in
            let allowed = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
            return allowed ? Character(scalar) : "_"
        }
        return String(kept)
    }
}
