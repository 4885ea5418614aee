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
        try Self.requireSingleDefinitions(graph)
        let isConstant = Set(graph.initializer.map(\.name))
        let inputs = graph.input.filter { !isConstant.contains($0.name) }
        guard inputs.count == 1, let proto = inputs.first else {
            throw ModelError.unsupportedUsage(
                node: "graph", opType: "inputs",
                reason: "ConvLens runs models with exactly one input; this one has \(inputs.count): "
                    + inputs.map(\.name).joined(separator: ", "))
        }
        // A named (or absent) size is symbolic; a number must be a real extent: 0, negative or huge sizes are
        // refused here, before any shape is computed from them.
        let dimensions: [Int?] = try proto.type.tensorType.shape.dim.enumerated().map { axis, dimension in
            guard case .dimValue(let value)? = dimension.value else { return nil }
            if axis == 0 && value <= 0 { return nil }  // the batch is dynamic anyway; some exporters write 0 or -1
            guard (1...Int64(TensorShape.maximumExtent)).contains(value) else {
                throw ModelError.unsupportedUsage(
                    node: "graph", opType: "input",
                    reason: "input '\(proto.name)' declares size \(value) for axis \(axis); sizes must be from 1 to "
                        + "\(TensorShape.maximumExtent) (or symbolic)")
            }
            return Int(value)
        }
        guard TensorShape(dimensions.map { $0 ?? 1 }).checkedCount != nil else {
            throw ModelError.unsupportedUsage(
                node: "graph", opType: "input", reason: "input '\(proto.name)' declares \(dimensions.map { $0.map(String.init) ?? "?" }) "
                    + "elements per sample, more than \(TensorShape.maximumCount)")
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

    /// The input shape to plan a model whose height or width is symbolic for until it meets an input: batch 1,
    /// the sizes the model fixes, and for the others its `convlens.size` metadata ("H×W" or "N") or 224 (ImageNet's).
    /// Nil when the input is not N×C×H×W.
    func provisionalInputShape() -> TensorShape? {
        let dimensions = input.dimensions
        guard dimensions.count == 4 else { return nil }
        let declared = (metadata["convlens.size"] ?? "").lowercased().split(whereSeparator: { "x×".contains($0) })
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { (1...4096).contains($0) }
        let size = declared.count == 2 ? declared : declared.count == 1 ? [declared[0], declared[0]] : [224, 224]
        return TensorShape([1, dimensions[1] ?? 3, dimensions[2] ?? size[0], dimensions[3] ?? size[1]])
    }

    /// Refuses a graph where a name is defined twice (two initializers, two node outputs, a node writing an input or
    /// an initializer: ONNX graphs are single-assignment, and readers disagree on which definition wins) or that has
    /// no output. Linear in the graph's size.
    private static func requireSingleDefinitions(_ graph: Onnx_GraphProto) throws {
        guard !graph.output.isEmpty else {
            throw ModelError.unsupportedUsage(node: "graph", opType: "outputs", reason: "the graph has no outputs")
        }
        var defined: Set<String> = []
        for initializer in graph.initializer where !defined.insert(initializer.name).inserted {
            throw ModelError.badTensor(name: initializer.name, reason: "two initializers have this name")
        }
        for input in graph.input where !defined.contains(input.name) { defined.insert(input.name) }
        for (index, node) in graph.node.enumerated() {
            for output in node.output where !output.isEmpty && !defined.insert(output).inserted {
                throw ModelError.unsupportedUsage(
                    node: node.name.isEmpty ? "\(node.opType)_\(index)" : node.name, opType: node.opType,
                    reason: "its output '\(output)' is already defined by an earlier node, an input or an initializer")
            }
        }
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
        // A plan for one size of a model whose height or width is symbolic may hold slices or resizes of that size
        // even when no shape computation read it: any other input shape is planned again.
        if let inputShape, input.shape(batch: 1) == nil { graph.plannedInput = inputShape }
        if let inputShape, graph.plannedInput != nil {
            plans.withLock { plans in
                if plans.count >= Self.maximumPlans { plans.removeAll() }
                plans[inputShape] = graph
            }
        }
        graph.source = self
        return graph
    }
}
