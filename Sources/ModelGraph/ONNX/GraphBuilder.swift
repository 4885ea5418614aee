import Foundation
import TensorOps

/// Accumulates a `Graph` while the importer walks an ONNX graph's nodes in order: constants, lowered nodes, and
/// (when the input's size is fixed) every value's shape, so a bad model fails at the node that breaks it.
struct GraphBuilder {
    let opset: Int
    let input: ValueInfo
    let outputs: [String]
    var constants: [String: HostTensor] = [:]
    /// Integer constants (Reshape shapes, Pad amounts).
    var integers: [String: [Int]] = [:]
    var nodes: [Node] = []
    var foldedValues: [String: String] = [:]
    /// How many nodes and graph outputs read each value, to know when a BatchNormalization may be folded.
    let consumers: [String: Int]
    /// Shapes for a batch of 1, known when every non-batch input dimension is fixed.
    private(set) var shapes: [String: TensorShape]?
    private var producers: [String: Int] = [:]
    private var nodeNames: Set<String> = []

    /// Side files of tensors stored outside the model.
    let external: ExternalDataFolder

    init(_ graph: Onnx_GraphProto, opset: Int, external: ExternalDataFolder) throws {
        self.opset = opset
        self.external = external
        if let sparse = graph.sparseInitializer.first {
            throw ModelError.badTensor(name: sparse.values.name, reason: "sparse initializers are not supported")
        }
        let isConstant = Set(graph.initializer.map(\.name))
        let inputs = graph.input.filter { !isConstant.contains($0.name) }
        guard inputs.count == 1, let proto = inputs.first else {
            throw ModelError.unsupportedUsage(
                node: "graph", opType: "inputs",
                reason: "ConvLens runs models with exactly one input; this one has \(inputs.count): "
                    + inputs.map(\.name).joined(separator: ", "))
        }
        let dimensions: [Int?] = proto.type.tensorType.shape.dim.map { dimension in
            if case .dimValue(let value)? = dimension.value, value > 0 { Int(value) } else { nil }
        }
        input = ValueInfo(name: proto.name, dimensions: dimensions)
        outputs = graph.output.map(\.name)
        var consumers: [String: Int] = [:]
        for name in graph.node.flatMap(\.input) + outputs where !name.isEmpty { consumers[name, default: 0] += 1 }
        self.consumers = consumers
        shapes = input.shape(batch: 1).map { [input.name: $0] }
        for tensor in graph.initializer {
            try addConstant(tensor.decoded(external: external), named: tensor.name)
        }
    }

    /// Lowers one ONNX node and appends what it becomes.
    mutating func add(_ proto: Onnx_NodeProto, index: Int) throws {
        var name = proto.name.isEmpty ? "\(proto.opType)_\(index)" : proto.name
        if nodeNames.contains(name) { name += "_\(index)" }
        nodeNames.insert(name)
        guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
            throw ModelError.unsupportedOp(
                opType: "\(proto.domain).\(proto.opType)", node: name, supported: ONNXImporter.supportedOps)
        }
        guard let output = proto.output.first, !output.isEmpty else {
            throw ModelError.unsupportedUsage(node: name, opType: proto.opType, reason: "it has no output")
        }
        for extra in proto.output.dropFirst() where !extra.isEmpty && consumers[extra, default: 0] > 0 {
            throw ModelError.unsupportedUsage(
                node: name, opType: proto.opType, reason: "its extra output '\(extra)' is used; ConvLens computes only the first")
        }
        for value in proto.input where !value.isEmpty && !isDefined(value) {
            throw ModelError.unknownValue(value, node: name)
        }
        try lower(proto, name: name, attributes: ONNXAttributes(proto, nodeName: name))
    }

    /// Whether `value` is an input, a constant or an earlier node's output.
    func isDefined(_ value: String) -> Bool {
        value == input.name || constants[value] != nil || integers[value] != nil || producers[value] != nil
    }

    /// Appends a lowered node, checking its shapes when they are known.
    mutating func append(_ node: Node) throws {
        if var known = shapes {
            let inputShapes = try node.inputs.map { value -> TensorShape in
                guard let shape = known[value] ?? constants[value]?.shape else {
                    throw ModelError.unknownValue(value, node: node.name)
                }
                return shape
            }
            do {
                known[node.output] = try node.outputShape(inputs: inputShapes)
            } catch let error as ShapeError {
                throw ModelError.shape(node: node.name, opType: node.opType, error)
            }
            shapes = known
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
        if var known = shapes, let shape = known[old] {
            known[value] = shape
            known[old] = nil
            shapes = known
        }
    }

    mutating func addConstant(_ constant: ONNXConstant, named name: String) throws {
        switch constant {
        case .float(let tensor):
            // Scalars become 1-element vectors: the same under broadcasting, and every backend shape is non-empty.
            constants[name] = tensor.shape.rank == 0 ? HostTensor(shape: [1], values: tensor.values) : tensor
        case .integers(_, let values):
            integers[name] = values
        }
    }

    func finish(metadata: [String: String]) throws -> Graph {
        let resolvedOutputs = outputs.map { foldedValues[$0] ?? $0 }
        for output in resolvedOutputs where producers[output] == nil {
            throw ModelError.unsupportedUsage(
                node: "graph", opType: "outputs", reason: "output '\(output)' is not computed by any node")
        }
        // Weights replaced by folding (and constants only integer ops read) are not carried along.
        let used = Set(nodes.flatMap(\.inputs))
        return Graph(
            input: input, outputs: resolvedOutputs, nodes: nodes, constants: constants.filter { used.contains($0.key) },
            metadata: metadata,
            opsetVersion: opset, foldedValues: foldedValues)
    }
}
