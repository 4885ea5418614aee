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

    /// An error for this node: `reason` says what about it ConvLens cannot run.
    func unsupported(_ reason: String) -> ModelError {
        .unsupportedUsage(node: node, opType: opType, reason: reason)
    }
}
