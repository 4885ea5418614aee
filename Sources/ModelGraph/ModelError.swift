import TensorOps

/// Why a model could not be loaded or run. Every case says what and where in one line.
public enum ModelError: Error, CustomStringConvertible, Sendable {
    /// The bytes are not a readable ONNX model (not protobuf, truncated, no graph …).
    case notONNX(source: String, reason: String)
    /// The model needs an opset ConvLens does not implement.
    case unsupportedOpset(source: String, domain: String, version: Int, supported: ClosedRange<Int>)
    /// A node uses an op ConvLens does not implement.
    /// (`opset`: the default domain's, nil for an op of another domain.)
    case unsupportedOp(opType: String, node: String, opset: Int?, supported: [String])
    /// A node uses a supported op in a way ConvLens does not (an attribute value, a computed weight …).
    case unsupportedUsage(node: String, opType: String, reason: String)
    /// A tensor in the file is malformed or stores its data elsewhere.
    case badTensor(name: String, reason: String)
    /// A node refers to a value no earlier node, input or initializer defines.
    case unknownValue(String, node: String)
    /// Shapes that do not fit, found while checking the graph.
    case shape(node: String, opType: String, ShapeError)
    /// A name given by the user matches no value or node.
    case noSuchLayer(String, nearest: [String])
    /// The input does not fit the model.
    case inputMismatch(expected: [Int?], got: TensorShape, input: String)

    public var description: String {
        switch self {
        case .notONNX(let source, let reason):
            return "\(source): not a readable ONNX model (\(reason))"
        case .unsupportedOpset(let source, let domain, let version, let supported):
            let name = domain.isEmpty ? "ai.onnx" : domain
            return "\(source): opset \(name) \(version) is not supported (ConvLens reads ai.onnx opsets "
                + "\(supported.lowerBound)–\(supported.upperBound))"
        case .unsupportedOp(let opType, let node, let opset, let supported):
            return "node '\(node)': op \(opType)\(opset.map { " (opset \($0))" } ?? "") is not supported; supported ops: "
                + supported.joined(separator: ", ")
        case .unsupportedUsage(let node, let opType, let reason):
            return "node '\(node)' (\(opType)): \(reason)"
        case .badTensor(let name, let reason):
            return "tensor '\(name)': \(reason)"
        case .unknownValue(let name, let node):
            return "node '\(node)' reads '\(name)', which no input, initializer or earlier node defines"
        case .shape(let node, let opType, let error):
            return "node '\(node)' (\(opType)): \(error.message)"
        case .noSuchLayer(let name, let nearest):
            let hint = nearest.isEmpty ? "" : "; nearest: " + nearest.map { "'\($0)'" }.joined(separator: ", ")
            return "layer '\(name)' not found\(hint)"
        case .inputMismatch(let expected, let got, let input):
            let shape = expected.map { $0.map(String.init) ?? "N" }.joined(separator: "×")
            return "input '\(input)' must be \(shape), got \(got)"
        }
    }
}
