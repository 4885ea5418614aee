import Foundation
import TensorOps

extension GraphBuilder {
    /// `Y = α·A'·B' + β·C` with a constant B: a linear layer with weight α·B' (Out×In) and bias β·C, after a
    /// transpose node when transA is set; a C that is computed, or not one value per output, is added after.
    mutating func lowerGemm(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let inputs = proto.input.filter { !$0.isEmpty }
        guard inputs.count >= 2, let b = constants[inputs[1]], b.shape.rank == 2 else {
            throw a.unsupported("Gemm needs a constant 2-D B (a weight)")
        }
        let alpha = a.float("alpha", default: 1), beta = a.float("beta", default: 1)
        var weight = a.int("transB", default: 0) != 0 ? b : transposed(b)
        weight.values = weight.values.map { $0 * alpha }
        let weightName = "\(inputs[1])@\(name)"
        constants[weightName] = weight
        let outFeatures = weight.shape[0]

        var x = inputs[0]
        if a.int("transA", default: 0) != 0 {
            let transposedA = "\(name)/A_transposed"
            try append(Node(name: "\(name)/transA", opType: "Gemm", operation: .permute([1, 0]), inputs: [x],
                            output: transposedA))
            x = transposedA
        }
        var linearInputs = [x, weightName]
        var addend: String?
        if inputs.count > 2 {
            let c = inputs[2]
            if let bias = constants[c], bias.shape.count == outFeatures || bias.shape.count == 1 {
                let values = bias.shape.count == 1 ? [Float](repeating: bias.values[0], count: outFeatures) : bias.values
                constants["\(name)/bias"] = HostTensor(shape: [outFeatures], values: values.map { $0 * beta })
                linearInputs.append("\(name)/bias")
            } else if let bias = constants[c] {
                constants["\(name)/C"] = HostTensor(shape: bias.shape, values: bias.values.map { $0 * beta })
                addend = "\(name)/C"
            } else {
                guard beta == 1 else { throw a.unsupported("beta ≠ 1 with a computed C is not supported") }
                addend = c
            }
        }
        let output = proto.output[0]
        let linearOutput = addend == nil ? output : "\(name)/AB"
        try append(Node(name: name, opType: "Gemm", operation: .linear, inputs: linearInputs, output: linearOutput))
        if let addend {
            try append(Node(name: "\(name)/C", opType: "Gemm", operation: .binary(.add), inputs: [linearOutput, addend],
                            output: output))
        }
    }

    /// ReduceMean, ReduceSum and ReduceMax over any axes, keepdims either way. A mean over the spatial axes of an
    /// NCHW tensor (squeeze-and-excitation blocks, pooling heads written as a mean) is global average pooling, which
    /// `cam --method cam` recognizes as a model's head; other reductions run as `Operation.reduce`, axes that are not
    /// adjacent permuted together first. Axes are an attribute before opset 18 (ReduceSum: 13) and an input after.
    mutating func lowerReduction(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let x = proto.input[0], output = proto.output[0]
        let axesAreInput = opset >= (proto.opType == "ReduceSum" ? 13 : 18)
        let listed = axesAreInput ? (proto.input.count > 1 && !proto.input[1].isEmpty
            ? try integerOperand(proto.input[1], a, role: "axes") : nil) : a.ints("axes")
        let keep = a.int("keepdims", default: 1) != 0
        guard let rank = shapes?[x]?.rank else { throw a.unsupported("the input's shape must be known at load") }
        if (listed ?? []).isEmpty && a.int("noop_with_empty_axes", default: 0) != 0 {
            return try append(Node(name: name, opType: proto.opType, operation: .identity, inputs: [x], output: output))
        }
        // No axes, or an empty list, means every axis (ONNX); a rank-0 input has none to reduce.
        let requested = listed.flatMap { $0.isEmpty ? nil : $0 } ?? Array(0..<rank)
        let axes = try Set(requested.map { axis -> Int in
            let resolved = axis < 0 ? axis + rank : axis
            guard (0..<rank).contains(resolved) else { throw a.unsupported("axis \(axis) is outside rank \(rank)") }
            return resolved
        }).sorted()
        let reduction: Reduction = switch proto.opType {
        case "ReduceSum": .sum
        case "ReduceMax": .max
        default: .mean
        }
        if reduction == .mean && rank == 4 && axes == [2, 3] {
            let pooled = keep ? output : "\(name)/pooled"
            try append(Node(name: name, opType: proto.opType, operation: .globalAveragePool, inputs: [x], output: pooled))
            if !keep {
                try append(Node(name: "\(name)/squeeze", opType: proto.opType, operation: .flatten(axis: 1),
                                inputs: [pooled], output: output))
            }
            return
        }
        guard let first = axes.first, let last = axes.last else {
            return try append(Node(name: name, opType: proto.opType, operation: .identity, inputs: [x], output: output))
        }
        if last - first + 1 == axes.count {
            return try append(Node(name: name, opType: proto.opType,
                                   operation: .reduce(reduction, axes: first...last, keepDimensions: keep),
                                   inputs: [x], output: output))
        }
        // Scattered axes: gathered at the end, reduced, and put back as 1s for keepdims.
        let kept = (0..<rank).filter { !axes.contains($0) }
        try append(Node(name: "\(name)/gather_axes", opType: proto.opType, operation: .permute(kept + axes), inputs: [x],
                        output: "\(name)/gathered"))
        try append(Node(name: keep ? "\(name)/reduce" : name, opType: proto.opType,
                        operation: .reduce(reduction, axes: kept.count...(rank - 1), keepDimensions: false),
                        inputs: ["\(name)/gathered"], output: keep ? "\(name)/reduced" : output))
        if keep {
            try append(Node(name: name, opType: proto.opType, operation: .unsqueeze(axes: axes), inputs: ["\(name)/reduced"],
                            output: output))
        }
    }

    /// Einsum of two operands that is a batched matrix product (MaxViT's attention: `bghid,bghjd->bghij` and
    /// `bghij,bghjd->bghid`): the same leading batch letters in both operands and the output, one letter summed over
    /// in the last two of each. Operands and output whose last two letters come the other way round are permuted.
    mutating func lowerEinsum(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let equation = a.string("equation", default: "").filter { !$0.isWhitespace }
        let sides = equation.components(separatedBy: "->")
        let operands = sides.first?.components(separatedBy: ",") ?? []
        func refuse() -> ModelError {
            a.unsupported("equation '\(equation)' is not a batched matrix product of two operands (only those are supported)")
        }
        guard proto.input.count == 2, sides.count == 2, operands.count == 2 else { throw refuse() }
        let (lhs, rhs, out) = (Array(operands[0]), Array(operands[1]), Array(sides[1]))
        let rank = lhs.count
        guard rank >= 2, rhs.count == rank, out.count == rank, lhs.dropLast(2) == rhs.dropLast(2),
              lhs.dropLast(2) == out.dropLast(2), Set(lhs).count == rank, Set(rhs).count == rank
        else { throw refuse() }
        let (aTail, bTail, outTail) = (Array(lhs.suffix(2)), Array(rhs.suffix(2)), Array(out.suffix(2)))
        guard let summed = aTail.first(where: { bTail.contains($0) && !outTail.contains($0) }),
              let i = aTail.first(where: { $0 != summed }), let j = bTail.first(where: { $0 != summed }),
              Set(outTail) == [i, j]
        else { throw refuse() }
        var swapped = Array(0..<rank)
        swapped.swapAt(rank - 1, rank - 2)
        var inputs = Array(proto.input)
        for (index, (tail, wanted)) in [(aTail, [i, summed]), (bTail, [summed, j])].enumerated() where tail != wanted {
            let value = "\(name)/operand\(index)_transposed"
            try append(Node(name: value, opType: proto.opType, operation: .permute(swapped), inputs: [inputs[index]],
                            output: value))
            inputs[index] = value
        }
        let outputInOrder = outTail == [i, j]
        try append(Node(name: name, opType: proto.opType, operation: .matmul, inputs: inputs,
                        output: outputInOrder ? proto.output[0] : "\(name)/product"))
        if !outputInOrder {
            try append(Node(name: "\(name)/transpose", opType: proto.opType, operation: .permute(swapped),
                            inputs: ["\(name)/product"], output: proto.output[0]))
        }
    }

    /// The three ONNX normalizations as a standardization node followed by their scale and shift: LayerNormalization
    /// over the axes from `axis` (then Mul and Add, broadcast over the leading axes); InstanceNormalization over
    /// each channel's plane (then a per-channel affine); GroupNormalization over each group of channels, through a
    /// N×G×… view (then a per-channel affine; opset 18's per-group scale is spread to the group's channels).
    mutating func lowerNormalization(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let inputs = proto.input.filter { !$0.isEmpty }
        let x = proto.input[0], output = proto.output[0]
        let epsilon = a.float("epsilon", default: 1e-5)
        guard inputs.count >= 2, inputs.dropFirst().allSatisfy({ constants[$0] != nil }) else {
            throw a.unsupported("scale and bias must be constants")
        }
        func step(_ suffix: String, _ operation: Operation, _ inputs: [String], last: Bool) throws -> String {
            let value = last ? output : "\(name)/\(suffix)"
            try append(Node(name: last ? name : "\(name)/\(suffix)", opType: proto.opType, operation: operation,
                            inputs: inputs, output: value))
            return value
        }
        switch proto.opType {
        case "LayerNormalization":
            let hasBias = inputs.count > 2
            let normalized = try step("standardize", .standardize(axis: a.int("axis", default: -1), epsilon: epsilon), [x],
                                      last: false)
            let scaled = try step("scale", .binary(.mul), [normalized, inputs[1]], last: !hasBias)
            if hasBias { _ = try step("shift", .binary(.add), [scaled, inputs[2]], last: true) }
        case "InstanceNormalization":
            let normalized = try step("standardize", .standardize(axis: 2, epsilon: epsilon), [x], last: false)
            _ = try step("affine", .channelAffine, [normalized] + inputs.dropFirst(), last: true)
        default:
            guard let shape = shapes?[x], shape.rank >= 3, let scale = constants[inputs[1]],
                  inputs.count > 2, let bias = constants[inputs[2]]
            else { throw a.unsupported("needs the input's shape known at load, a scale and a bias") }
            let groups = a.int("num_groups", default: 0), channels = shape[1]
            guard groups > 0, channels % groups == 0 else {
                throw a.unsupported("num_groups \(groups) must divide the \(channels) channels")
            }
            // Opset 18 scales and shifts per group; 21 per channel.
            func perChannel(_ tensor: HostTensor) -> HostTensor {
                tensor.shape.count == channels ? tensor : HostTensor(
                    shape: [channels], values: (0..<channels).map { tensor.values[$0 / (channels / groups)] })
            }
            constants["\(name)/scale"] = perChannel(scale)
            constants["\(name)/bias"] = perChannel(bias)
            readsInputShape = true  // the view back to N×C×… bakes in the spatial size
            let grouped = try step("groups", .reshape([0, groups, -1]), [x], last: false)
            let normalized = try step("standardize", .standardize(axis: 2, epsilon: epsilon), [grouped], last: false)
            let ungrouped = try step("ungroup", .reshape([0] + shape.dimensions.dropFirst()), [normalized], last: false)
            _ = try step("affine", .channelAffine, [ungrouped, "\(name)/scale", "\(name)/bias"], last: true)
        }
    }

    /// A 2-D tensor transposed (ONNX weight layouts In×Out become Out×In).
    func transposed(_ tensor: HostTensor) -> HostTensor {
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        return HostTensor(
            shape: [columns, rows], values: (0..<tensor.values.count).map { tensor.values[($0 % rows) * columns + $0 / rows] })
    }

    /// Clip's bounds: inputs 1 and 2 from opset 11 on, attributes before; absent bounds are infinite.
    func clipActivation(_ proto: Onnx_NodeProto, _ a: ONNXAttributes) throws -> Activation {
        func bound(_ position: Int, attribute: String, default value: Float) throws -> Float {
            guard opset >= 11 else { return a.float(attribute, default: value) }
            guard proto.input.count > position, !proto.input[position].isEmpty else { return value }
            guard let tensor = constants[proto.input[position]], tensor.values.count == 1 else {
                throw a.unsupported("\(attribute) must be a constant scalar")
            }
            return tensor.values[0]
        }
        return .clip(min: try bound(1, attribute: "min", default: -.infinity),
                     max: try bound(2, attribute: "max", default: .infinity))
    }

    /// Before opset 13, Softmax flattens the input to 2-D at `axis` and normalizes the second part: the same as a
    /// softmax over one axis only when that is the last. (From 13 on, any axis.)
    func checkCoercedSoftmaxAxis(_ axis: Int, input: String, _ a: ONNXAttributes) throws {
        guard let rank = shapes?[input]?.rank else {
            guard axis == -1 || axis == 1 else { throw a.unsupported("softmax over axis \(axis) is not supported") }
            return
        }
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved == rank - 1 else {
            throw a.unsupported("softmax over axes \(axis)… of a rank-\(rank) tensor flattened (before opset 13) is not "
                + "supported; only the last axis")
        }
    }

    /// Constant-mode padding of the two spatial axes of an NCHW tensor.
    func padParameters(_ proto: Onnx_NodeProto, _ a: ONNXAttributes) throws -> (Padding2D, Float) {
        let mode = a.string("mode", default: "constant")
        guard mode == "constant" else { throw a.unsupported("pad mode \(mode) is not supported (only constant)") }
        guard proto.input.count < 4 || proto.input[3].isEmpty else { throw a.unsupported("the axes input is not supported") }
        let pads = opset >= 11 ? proto.input.count > 1 ? try integerOperand(proto.input[1], a, role: "pads") : nil
            : a.ints("pads")
        guard let pads, pads.count == 8 else { throw a.unsupported("pads must be 8 values (NCHW)") }
        guard pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw a.unsupported("only the spatial axes may be padded, got pads \(pads)")
        }
        var value: Float = a.float("value", default: 0)
        if opset >= 11, proto.input.count > 2, !proto.input[2].isEmpty {
            guard let constant = constants[proto.input[2]], constant.values.count == 1 else {
                throw a.unsupported("constant_value must be a constant scalar")
            }
            value = constant.values[0]
        }
        return (Padding2D(top: pads[2], left: pads[3], bottom: pads[6], right: pads[7]), value)
    }

    /// A Constant node's value, from whichever value attribute it carries.
    func constantValue(_ a: ONNXAttributes, output: String) throws -> ONNXConstant {
        if let tensor = source.constantNodeValues[output] { return tensor }
        if let values = a.ints("value_ints") { return .integers(shape: [values.count], values: values) }
        let scalar = a.int("value_int", default: .min)
        if scalar != .min { return .integers(shape: [], values: [scalar]) }
        let float = a.float("value_float", default: .nan)
        if !float.isNaN { return .float(HostTensor(shape: [1], values: [float])) }
        throw a.unsupported("only value, value_float, value_int and value_ints constants are supported")
    }
}
