extension Graph {
    /// The value a user-given name refers to: an ONNX value name, or a node name (meaning that node's output).
    ///
    /// - Throws: `ModelError.noSuchLayer` with the nearest existing names, or naming the value that replaced
    ///   one removed by BatchNormalization folding.
    public func resolve(_ name: String) throws -> String {
        if name == input.name || nodes.contains(where: { $0.output == name }) { return name }
        if let node = nodes.first(where: { $0.name == name }) { return node.output }
        if let replacement = foldedValues[name] {
            throw ModelError.noSuchLayer(name, nearest: [replacement])
        }
        throw ModelError.noSuchLayer(name, nearest: nearestNames(to: name))
    }

    /// The values `value` is computed from (itself included), as the set of their names.
    public func ancestors(of value: String) -> Set<String> {
        var needed: Set<String> = [value]
        for node in nodes.reversed() where needed.contains(node.output) {
            needed.formUnion(node.inputs)
        }
        return needed
    }

    /// `value` and every value computed from it (nodes are in execution order, so one pass finds them all).
    public func descendants(of value: String) -> Set<String> {
        var reached: Set<String> = [value]
        for node in nodes where node.inputs.contains(where: reached.contains) {
            reached.insert(node.output)
        }
        return reached
    }

    /// Every name `resolve` accepts: the input, each node's output value and each node's name.
    public var layerNames: [String] {
        [input.name] + nodes.flatMap { [$0.output, $0.name] }
    }

    /// Up to `count` accepted names closest to `name` by edit distance (case-insensitive).
    func nearestNames(to name: String, count: Int = 3) -> [String] {
        let target = Array(name.lowercased())
        var seen: Set<String> = []
        let candidates = layerNames.filter { seen.insert($0).inserted }
        let scored: [(name: String, distance: Int)] = candidates.map { candidate in
            (candidate, editDistance(target, Array(candidate.lowercased())))
        }
        let ranked = scored.sorted { left, right in
            left.distance != right.distance ? left.distance < right.distance : left.name < right.name
        }
        return ranked.prefix(count).map(\.name)
    }
}

/// Levenshtein distance: insertions, deletions and substitutions each cost 1.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    guard !a.isEmpty else { return b.count }
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1] + [Int](repeating: 0, count: b.count)
        for (j, y) in b.enumerated() {
            current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
