import Foundation
import TensorOps

/// Shape computations folded at load. Exporters compute Reshape targets, Pad amounts and the like from the input's
/// size with small subgraphs (`Shape` → `Gather` → arithmetic → `Concat` …); with the input's size fixed for this
/// plan, every such node is evaluated here once, and what it feeds reads a constant. No shape op runs per image.
extension GraphBuilder {
    /// ONNX ops evaluated at load when their inputs are constants (`Shape` and `Size` need only the input's shape).
    static let foldedOps: Set<String> = [
        "Abs", "Add", "And", "Cast", "CastLike", "Ceil", "Clip", "Concat", "ConstantOfShape", "Div", "Dropout",
        "Equal", "Expand", "Flatten", "Floor", "Gather", "GatherND", "Greater", "GreaterOrEqual", "Identity", "Less",
        "LessOrEqual", "Max", "Min", "Mod", "Mul", "Neg", "Not", "Or", "Pow", "Range", "Reshape", "Round",
        "ScatterND", "Shape", "Size", "Slice", "Sqrt", "Squeeze", "Sub", "Tile", "Transpose", "Unsqueeze", "Where",
    ]

    /// Ops that exist only to compute shapes: when one reads image data, the model is refused at that node.
    static let shapeOnlyOps: Set<String> = [
        "And", "CastLike", "Ceil", "ConstantOfShape", "Equal", "Expand", "Floor", "Greater", "GreaterOrEqual",
        "Less", "LessOrEqual", "Max", "Min", "Mod", "Not", "Or", "Range", "Round", "ScatterND", "Shape", "Size", "Tile",
        "Where",
    ]

    /// Evaluates `proto` when it is a shape computation over constants, storing its output as a constant; false when
    /// the node computes on activations (then it is lowered to a backend op).
    mutating func fold(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws -> Bool {
        guard Self.foldedOps.contains(proto.opType) else { return false }
        let inputs = Array(proto.input)
        if proto.opType == "Shape" || proto.opType == "Size" {
            guard let shape = exactShape(of: inputs[0]) else {
                throw a.unsupported("the shape of '\(inputs[0])' is not known at load: give the model's input a fixed "
                    + "height and width (export with a fixed size) so ConvLens can fold its shape computations")
            }
            readsInputShape = readsInputShape || folded[inputs[0]] == nil
            try store(proto, a, [proto.opType == "Size" ? FoldedTensor(integers: [shape.reduce(1, *)], shape: [])
                : FoldedTensor(integers: shapeSlice(shape, a))])
            return true
        }
        let operands = inputs.map { $0.isEmpty ? nil : folded[$0] }
        guard zip(inputs, operands).allSatisfy({ $0.isEmpty || $1 != nil }) else {
            if Self.shapeOnlyOps.contains(proto.opType) || (proto.opType == "Cast" && !castIsIdentity(a)) {
                let computed = inputs.first { !$0.isEmpty && folded[$0] == nil } ?? inputs[0]
                throw dataDependence(of: computed, a, role: "input")
            }
            return false
        }
        do {
            try store(proto, a, try evaluate(proto.opType, operands, a))
        } catch let error as ShapeError {
            throw ModelError.shape(node: name, opType: proto.opType, error)
        }
        return true
    }

    /// The error for an operand that must be known at load but is computed from the image.
    func dataDependence(of value: String, _ a: ONNXAttributes, role: String) -> ModelError {
        let origin = producer(of: value).map { " by node '\(nodes[$0].name)' (\(nodes[$0].opType))" }
            ?? (value == input.name ? " (the model's input)" : "")
        return a.unsupported("its \(role) '\(value)' is computed from the image\(origin), not only from shapes; "
            + "ConvLens folds shape computations at load and cannot run \(a.opType) on image data")
    }

    /// An integer operand (a shape, axes, pads) that must be known at load.
    func integerOperand(_ value: String, _ a: ONNXAttributes, role: String) throws -> [Int] {
        if let tensor = folded[value] {
            guard let values = tensor.integerValues else {
                throw a.unsupported("its \(role) '\(value)' must be integers, is \(tensor.typeName)")
            }
            return values
        }
        throw dataDependence(of: value, a, role: role)
    }

    /// The ONNX shape of a value: a constant's exact shape (rank 0 for scalars) or an activation's, for this plan.
    func exactShape(of value: String) -> [Int]? {
        folded[value]?.shape ?? shapes?[value]?.dimensions
    }

    /// A Cast to float of image data changes nothing ConvLens computes (it runs in float).
    private func castIsIdentity(_ a: ONNXAttributes) -> Bool {
        a.int("to", default: 0) == 1
    }

    /// Shape's `start` and `end` attributes (opset 15), clamped as ONNX says.
    private func shapeSlice(_ shape: [Int], _ a: ONNXAttributes) -> [Int] {
        let rank = shape.count
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let start = clamp(a.int("start", default: 0)), end = clamp(a.int("end", default: rank))
        return start < end ? Array(shape[start..<end]) : []
    }

    private mutating func store(_ proto: Onnx_NodeProto, _ a: ONNXAttributes, _ results: [FoldedTensor]) throws {
        for (output, result) in zip(proto.output, results) where !output.isEmpty {
            folded[output] = result
            if case .floats(let values) = result.elements {
                constants[output] = HostTensor(shape: TensorShape(result.shape.isEmpty ? [1] : result.shape), values: values)
            }
        }
        foldedNodeCount += 1
    }

    // MARK: - Evaluation

    private func evaluate(_ op: String, _ operands: [FoldedTensor?], _ a: ONNXAttributes) throws -> [FoldedTensor] {
        func required(_ index: Int) throws -> FoldedTensor {
            guard index < operands.count, let operand = operands[index] else {
                throw a.unsupported("input \(index) is missing")
            }
            return operand
        }
        func integers(_ index: Int, _ role: String) throws -> [Int] {
            let operand = try required(index)
            guard let values = operand.integerValues else { throw a.unsupported("its \(role) must be integers") }
            return values
        }
        switch op {
        case "Identity", "Dropout":
            return [try required(0)]
        case "Cast":
            return [try cast(try required(0), to: a.int("to", default: 1), a)]
        case "CastLike":
            let like = try required(1)
            let type = switch like.elements { case .floats: 1; case .integers: 7; case .booleans: 9 }
            return [try cast(try required(0), to: type, a)]
        case "Gather":
            return [try gather(try required(0), indices: try required(1), axis: a.int("axis", default: 0), a)]
        case "Slice":
            return [try slice(try required(0), operands, a)]
        case "Concat":
            return [try concat(operands.compactMap { $0 }, axis: a.int("axis", default: 0), a)]
        case "Squeeze":
            let tensor = try required(0)
            let axes = opset >= 13 ? (operands.count > 1 ? try integers(1, "axes") : nil) : a.ints("axes")
            return [tensor.reshaped(try Node.squeezedDimensions(tensor.shape, axes: axes))]
        case "Unsqueeze":
            let tensor = try required(0)
            guard let axes = opset >= 13 ? try integers(1, "axes") : a.ints("axes") else {
                throw a.unsupported("Unsqueeze needs axes")
            }
            return [tensor.reshaped(try Node.unsqueezedDimensions(tensor.shape, axes: axes))]
        case "Reshape":
            let tensor = try required(0)
            let target = try integers(1, "target shape")
            let shape = try Node.reshapedDimensions(tensor.shape, target: target, allowZero: a.int("allowzero", default: 0) != 0)
            return [tensor.reshaped(shape)]
        case "Flatten":
            let tensor = try required(0)
            let rank = tensor.shape.count
            let axis = a.int("axis", default: 1)
            let split = axis < 0 ? axis + rank : axis
            guard (0...rank).contains(split) else { throw a.unsupported("axis \(axis) is outside rank \(rank)") }
            return [tensor.reshaped([tensor.shape[..<split].reduce(1, *), tensor.shape[split...].reduce(1, *)])]
        case "Transpose":
            return [try transpose(try required(0), perm: a.ints("perm"), a)]
        case "ConstantOfShape":
            let shape = try integers(0, "shape")
            guard shape.allSatisfy({ $0 >= 0 }) else { throw a.unsupported("shape \(shape) has a negative dimension") }
            try requireSize(shape, a)
            let count = shape.reduce(1, *)
            guard let value = a.tensor("value") else { return [FoldedTensor(shape: shape, .floats(.init(repeating: 0, count: count)))] }
            let filler = try value.decoded(external: ExternalDataFolder(modelPath: nil)).folded
            guard filler.count == 1 else { throw a.unsupported("value must hold one element") }
            return [filler.gathering([Int](repeating: 0, count: count), shape: shape)]
        case "Range":
            return [try range(try required(0), try required(1), try required(2), a)]
        case "Expand":
            let tensor = try required(0)
            let target = try integers(1, "shape")
            guard let shape = FoldedIndexing.broadcast([tensor.shape, target]) else {
                throw a.unsupported("cannot expand \(tensor.shape) to \(target)")
            }
            try requireSize(shape, a)
            return [tensor.gathering(FoldedIndexing.broadcastSources(from: tensor.shape, to: shape), shape: shape)]
        case "Tile":
            let tensor = try required(0)
            let repeats = try integers(1, "repeats")
            guard repeats.count == tensor.shape.count, repeats.allSatisfy({ $0 >= 0 }) else {
                throw a.unsupported("repeats \(repeats) do not fit \(tensor.shape)")
            }
            let shape = zip(tensor.shape, repeats).map { $0 * $1 }
            try requireSize(shape, a)
            let strides = TensorShape(tensor.shape).strides
            let sources = (0..<shape.reduce(1, *)).map { flat in
                zip(FoldedIndexing.coordinates(flat, shape), zip(tensor.shape, strides)).reduce(0) { $0 + ($1.0 % $1.1.0) * $1.1.1 }
            }
            return [tensor.gathering(sources, shape: shape)]
        case "Where":
            return [try FoldedArithmetic.select(try required(0), try required(1), try required(2), a)]
        case "Clip":
            // timm's TF "same" padding clamps its amounts at 0 with Clip; bounds are inputs from opset 11.
            var result = try required(0)
            let bounds = opset >= 11 ? [operands.count > 1 ? operands[1] : nil, operands.count > 2 ? operands[2] : nil]
                : ["min", "max"].map { name in
                    a.has(name) ? FoldedTensor(shape: [], .floats([a.float(name, default: 0)])) : nil
                }
            for (op, bound) in zip(["Max", "Min"], bounds) {
                if let bound { result = try FoldedArithmetic.apply(op, [result, bound], fmod: false, a) }
            }
            return [result]
        case "GatherND":
            return [try gatherND(try required(0), indices: try required(1), a)]
        case "ScatterND":
            return [try scatter(try required(0), indices: try required(1), updates: try required(2), a)]
        default:
            return [try FoldedArithmetic.apply(op, operands.compactMap { $0 }, fmod: a.int("fmod", default: 0) != 0, a)]
        }
    }

    /// GatherND with batch_dims 0 (CoAtNet's relative-position bias: a parameter table read at constant indices):
    /// for each index tuple of depth k, the slice of `data` it names; output shape indices.shape[..<-1] +
    /// data.shape[k...].
    private func gatherND(_ data: FoldedTensor, indices: FoldedTensor, _ a: ONNXAttributes) throws -> FoldedTensor {
        guard a.int("batch_dims", default: 0) == 0 else { throw a.unsupported("only batch_dims 0 is folded") }
        let offsets = try tupleOffsets(data, indices: indices, a)
        let slice = data.shape[(indices.shape.last ?? 0)...].reduce(1, *)
        let shape = Array(indices.shape.dropLast()) + Array(data.shape[(indices.shape.last ?? 0)...])
        try requireSize(shape, a)
        return data.gathering(offsets.flatMap { base in (0..<slice).map { base + $0 } }, shape: shape)
    }

    /// The flat offset in `data` of the slice each index tuple (the last axis of `indices`) names, negative indices
    /// counted from the end.
    private func tupleOffsets(_ data: FoldedTensor, indices: FoldedTensor, _ a: ONNXAttributes) throws -> [Int] {
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
    private func scatter(_ data: FoldedTensor, indices: FoldedTensor, updates: FoldedTensor, _ a: ONNXAttributes) throws
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

    private func requireSize(_ shape: [Int], _ a: ONNXAttributes) throws {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= 1 << 24 else {
                throw a.unsupported("a folded constant of shape \(shape) is too large (more than 2²⁴ elements)")
            }
            count = product
        }
    }

    private func cast(_ tensor: FoldedTensor, to type: Int, _ a: ONNXAttributes) throws -> FoldedTensor {
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

    private func gather(_ data: FoldedTensor, indices: FoldedTensor, axis: Int, _ a: ONNXAttributes) throws -> FoldedTensor {
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

    private func slice(_ data: FoldedTensor, _ operands: [FoldedTensor?], _ a: ONNXAttributes) throws -> FoldedTensor {
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

    private func concat(_ tensors: [FoldedTensor], axis: Int, _ a: ONNXAttributes) throws -> FoldedTensor {
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

    private func transpose(_ tensor: FoldedTensor, perm: [Int]?, _ a: ONNXAttributes) throws -> FoldedTensor {
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

    private func range(_ start: FoldedTensor, _ limit: FoldedTensor, _ delta: FoldedTensor, _ a: ONNXAttributes) throws
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
}

extension FoldedTensor {
    func reshaped(_ shape: [Int]) -> FoldedTensor { FoldedTensor(shape: shape, elements) }

    /// Blocks of each tensor interleaved `outer` times (concatenation along one axis).
    static func concatenating(_ tensors: [FoldedTensor], outer: Int, blocks: [Int]) -> FoldedTensor {
        func interleave<T>(_ arrays: [[T]]) -> [T] {
            var result: [T] = []
            for o in 0..<outer { for (array, block) in zip(arrays, blocks) { result += array[(o * block)..<((o + 1) * block)] } }
            return result
        }
        let shape = tensors[0].shape
        switch tensors[0].elements {
        case .floats:
            return FoldedTensor(shape: shape, .floats(interleave(tensors.map { if case .floats(let v) = $0.elements { v } else { [] } })))
        case .integers:
            return FoldedTensor(shape: shape, .integers(interleave(tensors.map { if case .integers(let v) = $0.elements { v } else { [] } })))
        case .booleans:
            return FoldedTensor(shape: shape, .booleans(interleave(tensors.map { if case .booleans(let v) = $0.elements { v } else { [] } })))
        }
    }
}

extension ONNXConstant {
    /// The constant as folding sees it.
    var folded: FoldedTensor {
        switch self {
        case .float(let tensor): FoldedTensor(shape: tensor.shape.dimensions, .floats(tensor.values))
        case .integers(let shape, let values): FoldedTensor(shape: shape, .integers(values))
        }
    }
}
