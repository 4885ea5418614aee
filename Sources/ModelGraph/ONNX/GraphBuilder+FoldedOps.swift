import TensorOps

/// Folding's element-moving ops on constants: Cast, Gather, Slice, Concat, Transpose, Range, GatherND and
/// ScatterND, each as ONNX defines it, over `FoldedTensor`s of any rank.
extension GraphBuilder {
    func cast(_ tensor: FoldedTensor, to type: Int, _ a: ONNXAttributes) throws -> FoldedTensor {
        let floats: [Float], integers: [Int]
        switch tensor.elements {
        case .floats(let v):
            floats = v
            guard v.allSatisfy({ $0.isFinite && abs($0) < 9.2e18 }) || ![2, 3, 4, 5, 6, 7, 12, 13, 9].contains(type) else {
                throw a.unsupported("cannot cast non-finite or huge values \(v.prefix(4)) to integers")
            }
            integers = [2, 3, 4, 5, 6, 7, 12, 13, 9].contains(type) ? v.map { Int($0) } : []
        case .integers(let v): (floats, integers) = (v.map(Float.init), v)
        case .booleans(let v): (floats, integers) = (v.map { $0 ? 1 : 0 }, v.map { $0 ? 1 : 0 })
        }
        switch type {
        case 1, 10, 11, 16: return FoldedTensor(shape: tensor.shape, .floats(floats))
        case 2, 3, 4, 5, 6, 7, 12, 13: return FoldedTensor(shape: tensor.shape, .integers(integers))
        case 9: return FoldedTensor(shape: tensor.shape, .booleans(integers.map { $0 != 0 }))
        default: throw a.unsupported("cast to data type \(type) is not supported")
        }
    }

    func gather(_ data: FoldedTensor, indices: FoldedTensor, axis: Int, _ a: ONNXAttributes) throws -> FoldedTensor {
        let rank = data.shape.count
        let resolved = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(resolved), let positions = indices.integerValues else {
            throw a.unsupported("axis \(axis) or indices do not fit data of shape \(data.shape)")
        }
        let extent = data.shape[resolved]
        let wrapped = try positions.map { index in
            let position = index < 0 ? index + extent : index
            guard (0..<extent).contains(position) else {
                throw a.unsupported("index \(index) is out of range for axis \(axis) of size \(extent)")
            }
            return position
        }
        let outer = data.shape[..<resolved].reduce(1, *), inner = data.shape[(resolved + 1)...].reduce(1, *)
        var sources: [Int] = []
        sources.reserveCapacity(outer * wrapped.count * inner)
        for o in 0..<outer { for p in wrapped { for i in 0..<inner { sources.append((o * extent + p) * inner + i) } } }
        return data.gathering(
            sources, shape: Array(data.shape[..<resolved]) + indices.shape + Array(data.shape[(resolved + 1)...]))
    }

    func slice(_ data: FoldedTensor, _ operands: [FoldedTensor?], _ a: ONNXAttributes) throws -> FoldedTensor {
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset >= 10 {
            func values(_ index: Int) throws -> [Int]? {
                guard index < operands.count, let operand = operands[index] else { return nil }
                guard let values = operand.integerValues else { throw a.unsupported("slice parameters must be integers") }
                return values
            }
            guard let s = try values(1), let e = try values(2) else { throw a.unsupported("starts and ends are required") }
            (starts, ends, axes, steps) = (s, e, try values(3), try values(4))
        } else {
            guard let s = a.ints("starts"), let e = a.ints("ends") else { throw a.unsupported("starts and ends are required") }
            (starts, ends, axes, steps) = (s, e, a.ints("axes"), nil)
        }
        let ranges = try Node.sliceRanges(
            shape: data.shape, starts: starts, ends: ends, axes: axes ?? Array(starts.indices),
            steps: steps ?? [Int](repeating: 1, count: starts.count))
        let shape = ranges.map(\.count)
        let strides = TensorShape(data.shape).strides
        let sources = (0..<shape.reduce(1, *)).map { flat in
            zip(FoldedIndexing.coordinates(flat, shape), zip(ranges, strides)).reduce(0) { sum, item in
                sum + (item.1.0.start + item.0 * item.1.0.step) * item.1.1
            }
        }
        return data.gathering(sources, shape: shape)
    }

    func concat(_ tensors: [FoldedTensor], axis: Int, _ a: ONNXAttributes) throws -> FoldedTensor {
        guard let first = tensors.first else { throw a.unsupported("Concat needs inputs") }
        let rank = first.shape.count
        let resolved = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(resolved) else { throw a.unsupported("axis \(axis) is outside rank \(rank)") }
        for tensor in tensors {
            guard tensor.shape.count == rank,
                  tensor.shape.indices.allSatisfy({ $0 == resolved || tensor.shape[$0] == first.shape[$0] }),
                  tensor.typeName == first.typeName
            else {
                throw a.unsupported("cannot concatenate \(first.typeName) \(first.shape) and \(tensor.typeName) \(tensor.shape)")
            }
        }
        let outer = first.shape[..<resolved].reduce(1, *)
        let blocks = tensors.map { $0.shape[resolved...].reduce(1, *) }
        var combined = FoldedTensor.concatenating(tensors, outer: outer, blocks: blocks)
        combined.shape = first.shape
        combined.shape[resolved] = tensors.map { $0.shape[resolved] }.reduce(0, +)
        return combined
    }

    func transpose(_ tensor: FoldedTensor, perm: [Int]?, _ a: ONNXAttributes) throws -> FoldedTensor {
        let rank = tensor.shape.count
        let permutation = perm ?? Array((0..<rank).reversed())
        guard permutation.sorted() == Array(0..<rank) else {
            throw a.unsupported("perm \(permutation) is not a permutation of \(rank) axes")
        }
        let shape = permutation.map { tensor.shape[$0] }
        let strides = TensorShape(tensor.shape).strides
        let sources = (0..<tensor.count).map { flat in
            zip(FoldedIndexing.coordinates(flat, shape), permutation).reduce(0) { $0 + $1.0 * strides[$1.1] }
        }
        return tensor.gathering(sources, shape: shape)
    }

    func range(_ start: FoldedTensor, _ limit: FoldedTensor, _ delta: FoldedTensor, _ a: ONNXAttributes) throws
        -> FoldedTensor
    {
        switch (start.elements, limit.elements, delta.elements) {
        case (.integers(let s), .integers(let l), .integers(let d)) where s.count == 1 && l.count == 1 && d.count == 1:
            guard d[0] != 0 else { throw a.unsupported("delta is 0") }
            let count = max(0, (l[0] - s[0] + d[0] + (d[0] > 0 ? -1 : 1)) / d[0])
            try requireSize([count], a)
            return FoldedTensor(integers: (0..<count).map { s[0] + $0 * d[0] })
        case (.floats(let s), .floats(let l), .floats(let d)) where s.count == 1 && l.count == 1 && d.count == 1:
            guard d[0] != 0, s[0].isFinite, l[0].isFinite else { throw a.unsupported("delta is 0 or bounds not finite") }
            let count = max(0, Int(((l[0] - s[0]) / d[0]).rounded(.up)))
            try requireSize([count], a)
            return FoldedTensor(shape: [count], .floats((0..<count).map { s[0] + Float($0) * d[0] }))
        default:
            throw a.unsupported("start, limit and delta must be scalars of one type")
        }
    }

    /// GatherND with batch_dims 0 (CoAtNet's relative-position bias: a parameter table read at constant indices):
    /// for each index tuple of depth k, the slice of `data` it names; output shape indices.shape[..<-1] +
    /// data.shape[k...].
    func gatherND(_ data: FoldedTensor, indices: FoldedTensor, _ a: ONNXAttributes) throws -> FoldedTensor {
        guard a.int("batch_dims", default: 0) == 0 else { throw a.unsupported("only batch_dims 0 is folded") }
        let offsets = try tupleOffsets(data, indices: indices, a)
        let slice = data.shape[(indices.shape.last ?? 0)...].reduce(1, *)
        let shape = Array(indices.shape.dropLast()) + Array(data.shape[(indices.shape.last ?? 0)...])
        try requireSize(shape, a)
        return data.gathering(offsets.flatMap { base in (0..<slice).map { base + $0 } }, shape: shape)
    }

    /// The flat offset in `data` of the slice each index tuple (the last axis of `indices`) names, negative indices
    /// counted from the end.
    func tupleOffsets(_ data: FoldedTensor, indices: FoldedTensor, _ a: ONNXAttributes) throws -> [Int] {
        guard let tuples = indices.integerValues, let depth = indices.shape.last, depth <= data.shape.count else {
            throw a.unsupported("indices must be integers of depth ≤ the data's rank")
        }
        let strides = TensorShape(data.shape).strides
        let count = depth == 0 ? 1 : tuples.count / depth
        return try (0..<count).map { tuple in
            try (0..<depth).reduce(0) { base, axis in
                let index = tuples[tuple * depth + axis]
                let position = index < 0 ? index + data.shape[axis] : index
                guard (0..<data.shape[axis]).contains(position) else {
                    throw a.unsupported("index \(index) is outside axis \(axis) of \(data.shape)")
                }
                return base + position * strides[axis]
            }
        }
    }

    /// ScatterND without reduction (Swin's attention mask, built by assigning window regions): `data` with each
    /// index tuple's slice replaced by its update.
    func scatter(_ data: FoldedTensor, indices: FoldedTensor, updates: FoldedTensor, _ a: ONNXAttributes) throws
        -> FoldedTensor
    {
        guard a.string("reduction", default: "none") == "none" else { throw a.unsupported("only reduction none is folded") }
        guard updates.typeName == data.typeName else { throw a.unsupported("updates must be of the data's type") }
        let offsets = try tupleOffsets(data, indices: indices, a)
        let slice = data.shape[(indices.shape.last ?? 0)...].reduce(1, *)
        guard updates.count == offsets.count * slice else {
            throw a.unsupported("updates \(updates.shape) do not fit indices \(indices.shape) into data \(data.shape)")
        }
        var sources = Array(0..<data.count)  // element i of the result: < data.count from data, else from updates
        for (tuple, base) in offsets.enumerated() {
            for offset in 0..<slice { sources[base + offset] = data.count + tuple * slice + offset }
        }
        let both = FoldedTensor.concatenating([data, updates.reshaped([updates.count])].map { $0.reshaped([$0.count]) },
                                              outer: 1, blocks: [data.count, updates.count])
        return both.gathering(sources, shape: data.shape)
    }
}
