import TensorOps

extension GraphExecutor {
    /// The first value of the last forward pass that holds NaN or an infinity — the input, then each node's output
    /// in execution order — as `ExecutionError.nonFinite`, or nil when every value is finite. Downloads every
    /// activation: a diagnosis (PyTorch's anomaly mode), run when an output is not finite or when asked for.
    public func firstNonFinite() throws -> ExecutionError? {
        if lastPassOutputOnly || !lastPassFolding.skipped.isEmpty {
            // A pass that folded epilogues did not keep every value: run it again keeping them all, to name the very
            // node rather than the last one folded into it.
            let input = try value(graph.input.name)
            let saved = (outputOnly, foldsEpilogues)
            (outputOnly, foldsEpilogues) = (false, nil)
            defer { (outputOnly, foldsEpilogues) = saved }
            try forward(input)
        }
        if let kind = try Self.nonFiniteKind(backend.download(try value(graph.input.name))) {
            return .nonFinite(node: "input", opType: "", value: graph.input.name, kind: kind)
        }
        for node in graph.nodes {
            guard let tensor = values[node.output] else { continue }  // not on the way to a partial forward's target
            if let kind = Self.nonFiniteKind(try backend.download(tensor)) {
                return .nonFinite(node: node.name, opType: node.opType, value: node.output, kind: kind)
            }
        }
        return nil
    }

    /// `firstNonFinite`'s description when a node of the last forward pass turned finite inputs into NaN or ∞ (the
    /// model's fault); nil when every value is finite or the input itself was not (the caller's, such as an
    /// optimizer's step too large).
    public func nonFiniteModelNode() throws -> String? {
        guard let error = try firstNonFinite(), case .nonFinite(let node, _, _, _) = error, node != "input" else { return nil }
        return error.description
    }

    /// Throws, naming the first node that produced it, when `output` (a result a command is about to use) holds NaN
    /// or an infinity; with `everyNode`, also when only an intermediate value does.
    public func requireFinite(_ output: HostTensor, everyNode: Bool = false) throws {
        guard everyNode || Self.nonFiniteKind(output) != nil else { return }
        if let error = try firstNonFinite() { throw error }
    }

    /// "NaN", "+∞" or "−∞" for the first non-finite element of `tensor`, nil when all are finite.
    static func nonFiniteKind(_ tensor: HostTensor) -> String? {
        guard let bad = tensor.values.first(where: { !$0.isFinite }) else { return nil }
        return bad.isNaN ? "NaN" : (bad > 0 ? "+∞" : "−∞")
    }
}
