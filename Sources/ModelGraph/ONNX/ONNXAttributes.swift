import Foundation

/// A node's attributes by name, with typed accessors that say which node and attribute is wrong.
struct ONNXAttributes {
    let node: String
    let opType: String
    private let byName: [String: Onnx_AttributeProto]

    init(_ proto: Onnx_NodeProto, nodeName: String) {
        node = nodeName
        opType = proto.opType
        byName = Dictionary(proto.attribute.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func int(_ name: String, default value: Int) -> Int {
        byName[name].map { Int($0.i) } ?? value
    }

    func float(_ name: String, default value: Float) -> Float {
        byName[name].map(\.f) ?? value
    }

    func ints(_ name: String) -> [Int]? {
        byName[name].map { $0.ints.map { Int($0) } }
    }

    func has(_ name: String) -> Bool { byName[name] != nil }

    func floats(_ name: String) -> [Float]? {
        byName[name].map(\.floats)
    }

    func string(_ name: String, default value: String) -> String {
        byName[name].map { String(decoding: $0.s, as: UTF8.self) } ?? value
    }

    func tensor(_ name: String) -> Onnx_TensorProto? {
        byName[name].flatMap { $0.hasT ? $0.t : nil }
    }

    /// Refuses an attribute the op's ONNX schema does not define (a misspelling would otherwise be ignored and its
    /// default used) and an attribute given twice (which one counts is not defined).
    func requireSchemaNames(_ proto: Onnx_NodeProto) throws {
        let names = proto.attribute.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw unsupported("attribute '\(repeated)' is given twice")
        }
        guard let known = Self.schemaNames[opType] else { return }  // an op ConvLens refuses anyway
        if let unknown = names.first(where: { !known.contains($0) }) {
            throw unsupported("'\(unknown)' is not an attribute of \(opType) ("
                + (known.isEmpty ? "it has none" : "it has: " + known.sorted().joined(separator: ", ")) + ")")
        }
    }

    /// Refuses a node with fewer inputs than its op requires, or a required input left empty, before any lowering
    /// reads them.
    func requireSchemaInputs(_ proto: Onnx_NodeProto) throws {
        guard let required = Self.schemaMinimumInputs[opType] else { return }
        guard proto.input.count >= required else {
            throw unsupported("\(opType) takes at least \(required) input\(required == 1 ? "" : "s"), this node has \(proto.input.count)")
        }
        if let missing = proto.input.prefix(required).firstIndex(where: \.isEmpty) {
            throw unsupported("its input \(missing) has an empty name (only trailing optional inputs may be left out)")
        }
    }

    /// An error for this node: `reason` says what about it ConvLens cannot run.
    func unsupported(_ reason: String) -> ModelError {
        .unsupportedUsage(node: node, opType: opType, reason: reason)
    }
}
