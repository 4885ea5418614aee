import Foundation
import Synchronization
import TensorOps

/// An ONNX model as read from its file, decoded once and kept so the graph can be lowered again for another input
/// shape: a model whose shape computations were folded for one input size (a Reshape to `[N, -1]` built from
/// `Shape`, "same" padding computed from the height) is planned anew when the batch or the image size changes.
final class ONNXSource: Sendable {
    let opset: Int
    let input: ValueInfo
    let outputs: [String]
    let nodes: [Onnx_NodeProto]
    /// Initializers and the values of Constant nodes (by output name), decoded once.
    let constants: [(name: String, value: ONNXConstant)]
    let constantNodeValues: [String: ONNXConstant]
    /// How many nodes and graph outputs read each value, to know when a BatchNormalization may be folded.
    let consumers: [String: Int]
    /// The nodes (by index) that read each value, to see what a node's one consumer is before lowering it.
    let readers: [String: [Int]]
    let metadata: [String: String]
    /// Graphs lowered for other input shapes, at most `maximumPlans` of them (without their `source`, which would
    /// be a reference cycle).
    private let plans = Mutex<[TensorShape: Graph]>([:])
    private static let maximumPlans = 4

    init(_ model: Onnx_ModelProto, opset: Int, external: ExternalDataFolder) throws {
        let graph = model.graph
        self.opset = opset
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
        nodes = graph.node
        var consumers: [String: Int] = [:]
        for name in graph.node.flatMap(\.input) + outputs where !name.isEmpty { consumers[name, default: 0] += 1 }
        self.consumers = consumers
        var readers: [String: [Int]] = [:]
        for (index, node) in graph.node.enumerated() {
            for name in Set(node.input) where !name.isEmpty { readers[name, default: []].append(index) }
        }
        self.readers = readers
        constants = try graph.initializer.map { ($0.name, try $0.decoded(external: external)) }
        var constantNodeValues: [String: ONNXConstant] = [:]
        for node in graph.node where node.opType == "Constant" && !node.output.isEmpty {
            if let tensor = node.attribute.first(where: { $0.name == "value" && $0.hasT })?.t {
                constantNodeValues[node.output[0]] = try tensor.decoded(external: external)
            }
        }
        self.constantNodeValues = constantNodeValues
        metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    }

    /// The graph for inputs of `inputShape` (nil when the model leaves a non-batch dimension symbolic): every node
    /// lowered, shape computations folded for that shape, every shape checked.
    func graph(for inputShape: TensorShape?) throws -> Graph {
        if let inputShape, var cached = plans.withLock({ $0[inputShape] }) {
            cached.source = self
            return cached
        }
        var builder = GraphBuilder(self, inputShape: inputShape)
        for (index, node) in nodes.enumerated() {
            try builder.add(node, index: index)
        }
        var graph = try builder.finish()
        if let inputShape, graph.plannedInput != nil {
            plans.withLock { plans in
                if plans.count >= Self.maximumPlans { plans.removeAll() }
                plans[inputShape] = graph
            }
            graph.source = self
        }
        return graph
    }
}
