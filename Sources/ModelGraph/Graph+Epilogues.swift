import TensorOps

/// A convolution that also computes the residual addition and the activation after it (`ConvEpilogue`).
struct FusedConvolution {
    let epilogue: ConvEpilogue
    /// The value added before the activation, computed before the convolution runs.
    let residual: String?
    /// The value the convolution stores: the last folded node's output.
    let output: String
}

/// Which convolutions of a graph fold the nodes after them into their store: for an executor that keeps only the
/// outputs (`GraphExecutor.outputOnly`), or one that keeps the rest for gradients (`GraphExecutor.foldsEpilogues`).
struct EpiloguePlan {
    /// By the convolution's node name.
    var convolutions: [String: FusedConvolution] = [:]
    /// The outputs of the folded nodes, which no longer run on their own.
    var folded: Set<String> = []
    /// The convolution outputs and sums that are never stored.
    var skipped: Set<String> = []
    /// A folded activation's input (never stored) → its output, at which a gradient pass takes its derivative.
    var activationInputs: [String: String] = [:]
}

extension Graph {
    /// Folds into each convolution `conv → Add(·, r) → activation` (either step may be absent) where every value in
    /// between has that one reader and is not a model output, `r` has the sum's shape and is computed before the
    /// convolution, and the activation is one a store applies (`ConvEpilogue.canApply`).
    ///
    /// For a pass that will be differentiated (`keeping` not nil), the activation must also have its derivative at
    /// its output (`ConvEpilogue.derivativeFollowsOutput`), and no value in `keeping` is folded away.
    func epiloguePlan(shapes: [String: TensorShape], keeping: Set<String>? = nil) -> EpiloguePlan {
        var readers: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for input in Set(node.inputs) { readers[input, default: []].append(index) }
        }
        let outputSet = Set(outputs)
        // The value's only reader, when it has exactly one and is neither a model output nor a value to keep.
        func soleReader(_ value: String) -> Node? {
            guard !outputSet.contains(value), keeping?.contains(value) != true, let list = readers[value], list.count == 1
            else { return nil }
            return nodes[list[0]]
        }
        var producedAt: [String: Int] = [input.name: -1]
        for name in constants.keys { producedAt[name] = -1 }
        for (index, node) in nodes.enumerated() { producedAt[node.output] = index }

        var plan = EpiloguePlan()
        for (index, node) in nodes.enumerated() {
            guard case .conv = node.operation, let shape = shapes[node.output] else { continue }
            var value = node.output, residual: String?, activation: Activation?, intermediates: [String] = []
            if let add = soleReader(value), case .binary(.add) = add.operation, add.inputs.count == 2,
                let other = add.inputs.first(where: { $0 != value }), add.inputs.contains(value),
                shapes[other] == shape, shapes[add.output] == shape, let at = producedAt[other], at < index
            {
                (residual, intermediates, value) = (other, intermediates + [value], add.output)
            }
            if let next = soleReader(value), case .activation(let candidate) = next.operation,
                ConvEpilogue.canApply(candidate), shapes[next.output] == shape,
                keeping == nil || ConvEpilogue.derivativeFollowsOutput(candidate)
            {
                plan.activationInputs[value] = next.output
                (activation, intermediates, value) = (candidate, intermediates + [value], next.output)
            }
            guard !intermediates.isEmpty else { continue }
            plan.convolutions[node.name] = FusedConvolution(
                epilogue: ConvEpilogue(residual: residual != nil, activation: activation), residual: residual,
                output: value)
            plan.skipped.formUnion(intermediates)
            plan.folded.insert(value)
            plan.folded.formUnion(intermediates.dropFirst())
        }
        return plan
    }
}
