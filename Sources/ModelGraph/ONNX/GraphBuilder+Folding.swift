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
        "And", "CastLike", "Ceil", "ConstantOfShape", "Equal", "Floor", "Greater", "GreaterOrEqual",
        "Less", "LessOrEqual", "Max", "Min", "Mod", "Not", "Or", "Range", "Round", "ScatterND", "Shape", "Size", "Where",
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

    func requireSize(_ shape: [Int], _ a: ONNXAttributes) throws {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= 1 << 24 else {
                throw a.unsupported("a folded constant of shape \(shape) is too large (more than 2²⁴ elements)")
            }
            count = product
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
