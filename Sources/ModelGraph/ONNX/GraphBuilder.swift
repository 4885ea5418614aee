import Foundation
import TensorOps

/// Accumulates a `Graph` while the importer walks an ONNX graph's nodes in order: constants, lowered nodes, and
/// (when the input's size is fixed) every value's shape, so a bad model fails at the node that breaks it.
struct GraphBuilder {
    let source: ONNXSource
    var opset: Int { source.opset }
    var input: ValueInfo { source.input }
    var outputs: [String] { source.outputs }
    /// How many nodes and graph outputs read each value, to know when a BatchNormalization may be folded.
    var consumers: [String: Int] { source.consumers }
    /// Float constants for the backends (weights, and folded values that nodes read).
    var constants: [String: HostTensor] = [:]
    /// Every constant as ONNX holds it, for folding shape computations and reading shapes, axes and pads.
    var folded: [String: FoldedTensor] = [:]
    var nodes: [Node] = []
    var foldedValues: [String: String] = [:]
    /// Shapes of every value for the input shape being planned, when it is known.
    private(set) var shapes: [String: TensorShape]?
    /// Whether a folded value came from the input's shape (then another input shape needs another plan).
    var readsInputShape = false
    var foldedNodeCount = 0
    /// Sigmoid outputs held back to fuse with the Mul that reads them, by the value the Sigmoid read.
    var pendingSiLU: [String: String] = [:]
    /// Source nodes already lowered as part of an earlier node's fused chain (`foldGELU`), by index.
    var absorbedNodes: Set<Int> = []
    private var producers: [String: Int] = [:]
    private var nodeNames: Set<String> = []

    init(_ source: ONNXSource, inputShape: TensorShape?) {
        self.source = source
        shapes = inputShape.map { [source.input.name: $0] }
        for (name, constant) in source.constants { addConstant(constant, named: name) }
    }

    /// Lowers one ONNX node and appends what it becomes.
    mutating func add(_ proto: Onnx_NodeProto, index: Int) throws {
        var name = proto.name.isEmpty ? "\(proto.opType)_\(index)" : proto.name
        if nodeNames.contains(name) { name += "_\(index)" }
        nodeNames.insert(name)
        guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
            throw ModelError.unsupportedOp(
                opType: "\(proto.domain).\(proto.opType)", node: name, opset: nil, supported: ONNXImporter.supportedOps)
        }
        if absorbedNodes.contains(index) { return }
        guard let output = proto.output.first, !output.isEmpty else {
            throw ModelError.unsupportedUsage(node: name, opType: proto.opType, reason: "it has no output")
        }
        for extra in proto.output.dropFirst() where !extra.isEmpty && consumers[extra, default: 0] > 0
            && proto.opType != "Split"
        {
            throw ModelError.unsupportedUsage(
                node: name, opType: proto.opType, reason: "its extra output '\(extra)' is used; ConvLens computes only the first")
        }
        for value in proto.input where !value.isEmpty && !isDefined(value) {
            throw ModelError.unknownValue(value, node: name)
        }
        let attributes = ONNXAttributes(proto, nodeName: name)
        try attributes.requireSchemaNames(proto)
        try attributes.requireSchemaInputs(proto)
        if try fold(proto, name: name, attributes: attributes) { return }
        if try foldGELU(proto, index: index) { return }
        try lower(proto, name: name, attributes: attributes)
    }

    /// Whether `value` is an input, a constant or an earlier node's output.
    func isDefined(_ value: String) -> Bool {
        value == input.name || constants[value] != nil || folded[value] != nil || producers[value] != nil
            || pendingSiLU[value] != nil
    }

    /// Appends a lowered node, checking its shapes when they are known.
    mutating func append(_ node: Node) throws {
        // Read `shapes` in place and write one entry (no local copy alive across the write): copying the
        // dictionary per node made import quadratic in the node count.
        if shapes != nil {
            let inputShapes = try node.inputs.map { value -> TensorShape in
                if constants[value] == nil, let constant = folded[value] {
                    throw ModelError.unsupportedUsage(
                        node: node.name, opType: node.opType,
                        reason: "its input '\(value)' is a constant of type \(constant.typeName); ConvLens computes in float")
                }
                guard let shape = shapes?[value] ?? constants[value]?.shape else {
                    throw ModelError.unknownValue(value, node: node.name)
                }
                return shape
            }
            let output: TensorShape
            do {
                output = try node.outputShape(inputs: inputShapes)
            } catch let error as ShapeError {
                throw ModelError.shape(node: node.name, opType: node.opType, error)
            }
            shapes?[node.output] = output
        }
        producers[node.output] = nodes.count
        nodes.append(node)
    }

    /// The node that produces `value`, if it is a computed value.
    func producer(of value: String) -> Int? { producers[value] }

    /// Replaces the output of an emitted node (used when a following BatchNormalization is folded into it).
    mutating func rename(outputOf index: Int, to value: String) {
        let old = nodes[index].output
        nodes[index].output = value
        producers[old] = nil
        producers[value] = index
        foldedValues[old] = value
        if let shape = shapes?[old] {
            shapes?[value] = shape
            shapes?[old] = nil
        }
    }

    mutating func addConstant(_ constant: ONNXConstant, named name: String) {
        folded[name] = constant.folded
        if case .float(let tensor) = constant {
            // Scalars become 1-element vectors: the same under broadcasting, and every backend shape is non-empty.
            constants[name] = tensor.shape.rank == 0 ? HostTensor(shape: [1], values: tensor.values) : tensor
        }
    }

    func finish() throws -> Graph {
        let resolvedOutputs = outputs.map { foldedValues[$0] ?? $0 }
        for output in resolvedOutputs where producers[output] == nil {
            throw ModelError.unsupportedUsage(
                node: "graph", opType: "outputs", reason: "output '\(output)' is not computed by any node")
        }
        // Weights replaced by folding (and constants only integer ops read) are not carried along.
        let used = Set(nodes.flatMap(\.inputs))
        return Graph(
            input: input, outputs: resolvedOutputs, nodes: nodes, constants: constants.filter { used.contains($0.key) },
            metadata: source.metadata, opsetVersion: opset, foldedValues: foldedValues,
            plannedInput: readsInputShape ? shapes?[input.name] : nil, foldedNodeCount: foldedNodeCount)
    }
}
