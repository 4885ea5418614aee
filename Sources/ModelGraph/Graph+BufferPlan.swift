import TensorOps

/// Where an output-only forward pass (`GraphExecutor.outputOnly`) stores each value: values whose lifetimes do
/// not overlap share a buffer, so the pass needs a few activations' worth of memory instead of one per node, and
/// what it writes stays in the caches for the layers that read it.
struct BufferPlan {
    /// The slot each stored value is written to (a view shares its source's slot; the input has none).
    var slots: [String: Int] = [:]
    /// Each slot's element count (values share a slot only at equal counts, viewed in their own shapes).
    var slotCounts: [Int] = []
    /// Bytes of the slots: the activation memory of a pass.
    var bytes: Int { 4 * slotCounts.reduce(0, +) }
}

/// Activation memory of one forward pass, in bytes.
public struct ActivationMemory: Sendable {
    /// Every node's output in its own buffer, as a pass that may be differentiated keeps them.
    public let kept: Int
    /// Epilogues folded and buffers shared by lifetime, as an output-only pass stores them.
    public let shared: Int
}

extension Graph {
    /// The nodes whose output is a view of their first input (no buffer of their own).
    static func isView(_ operation: Operation) -> Bool {
        switch operation {
        case .reshape, .flatten, .identity, .squeeze, .unsqueeze: true
        default: false
        }
    }

    /// Assigns the values an output-only pass stores (after `epilogues`) to slots, first fit by element count, in
    /// execution order: a slot is free again after the last node that reads any value stored in it (or any view of
    /// one) has run. Model outputs keep their slots to the end.
    func bufferPlan(shapes: [String: TensorShape], epilogues: EpiloguePlan) -> BufferPlan {
        let running = nodes.enumerated().filter { !epilogues.folded.contains($0.element.output) }
        // What each node stores: a fused convolution stores its last folded node's output.
        func stored(_ node: Node) -> String { epilogues.convolutions[node.name]?.output ?? node.output }
        func reads(_ node: Node) -> [String] {
            node.inputs + (epilogues.convolutions[node.name]?.residual.map { [$0] } ?? [])
        }
        var root: [String: String] = [:]
        for (_, node) in running where Self.isView(node.operation) { root[node.output] = root[node.inputs[0]] ?? node.inputs[0] }
        var lastRead: [String: Int] = [:]
        for (index, node) in running {
            for value in reads(node) { lastRead[root[value] ?? value] = index }
        }
        for output in outputs { lastRead[root[output] ?? output] = Int.max }

        var plan = BufferPlan()
        var free: [Int: [Int]] = [:]  // element count → free slots
        var releasing: [Int: [String]] = [:]  // node index → stored values whose slots free after it
        for (index, node) in running {
            if !Self.isView(node.operation), let shape = shapes[stored(node)] {
                let value = stored(node), count = shape.count
                let slot = free[count]?.popLast() ?? {
                    plan.slotCounts.append(count)
                    return plan.slotCounts.count - 1
                }()
                plan.slots[value] = slot
                releasing[lastRead[value] ?? index, default: []].append(value)
            }
            for value in releasing.removeValue(forKey: index) ?? [] {
                let slot = plan.slots[value]!
                free[plan.slotCounts[slot], default: []].append(slot)
            }
        }
        for (_, node) in running where Self.isView(node.operation) {
            if let source = root[node.output], let slot = plan.slots[source] { plan.slots[node.output] = slot }
        }
        return plan
    }

    /// The activation memory of a forward pass on an input of `inputShape`: kept whole, or shared by an
    /// output-only pass.
    public func activationMemory(input inputShape: TensorShape) throws -> ActivationMemory {
        let graph = try planned(for: inputShape)
        let shapes = try graph.inferShapes(input: inputShape, through: nil)
        let kept = graph.nodes.filter { !Self.isView($0.operation) }.reduce(0) { $0 + 4 * (shapes[$1.output]?.count ?? 0) }
        let epilogues = graph.epiloguePlan(shapes: shapes)
        return ActivationMemory(kept: kept, shared: graph.bufferPlan(shapes: shapes, epilogues: epilogues).bytes)
    }
}
