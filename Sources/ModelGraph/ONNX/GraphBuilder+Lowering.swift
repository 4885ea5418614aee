import Foundation
import TensorOps

extension GraphBuilder {
    /// Every ONNX op type `lower` handles: a new op is a line here and a case there.
    static let loweredOps = [
        "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "Conv", "ConvTranspose", "Div", "Dropout",
        "Einsum", "Erf", "Expand", "Flatten", "Gather", "Gelu", "Gemm", "GlobalAveragePool", "GroupNormalization", "HardSigmoid", "HardSwish", "Identity",
        "InstanceNormalization", "LayerNormalization", "LeakyRelu",
        "MatMul", "MaxPool", "Mul", "Neg", "Pad", "Pow", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape", "Resize", "Sigmoid", "Softmax",
        "Slice", "Split", "Sqrt", "Squeeze", "Sub", "Tanh", "Tile", "Transpose", "Unsqueeze", "Upsample",
    ]

    /// Lowers one ONNX node to ConvLens operations (or a constant).
    mutating func lower(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let inputs = proto.input
        let output = proto.output[0]
        func node(_ operation: Operation, _ inputs: [String]) -> Node {
            Node(name: name, opType: proto.opType, operation: operation, inputs: inputs, output: output)
        }
        switch proto.opType {
        case "Conv":
            try append(node(.conv(try convParameters(proto, a)), try weights(inputs, a, required: 2, optional: 1)))
        case "Einsum":
            try lowerEinsum(proto, name: name, attributes: a)
        case "Resize", "Upsample":
            try lowerResize(proto, name: name, attributes: a)
        case "ConvTranspose":
            try lowerConvTranspose(proto, name: name, attributes: a)
        case "BatchNormalization":
            try lowerBatchNormalization(proto, name: name, attributes: a)
        case "Relu":
            try append(node(.activation(.relu), [inputs[0]]))
        case "LeakyRelu":
            try append(node(.activation(.leakyReLU(alpha: a.float("alpha", default: 0.01))), [inputs[0]]))
        case "Sigmoid":
            // x·σ(x) as exporters write SiLU: held back and fused with the Mul (one kernel, one tensor less).
            if consumers[output] == 1, !outputs.contains(output), let reader = source.readers[output]?.first,
               source.nodes[reader].opType == "Mul", Set(source.nodes[reader].input) == [inputs[0], output] {
                pendingSiLU[output] = inputs[0]
                return
            }
            try append(node(.activation(.sigmoid), [inputs[0]]))
        case "HardSwish":
            try append(node(.activation(.hardSwish), [inputs[0]]))
        case "HardSigmoid":
            let activation = Activation.hardSigmoid(alpha: a.float("alpha", default: 0.2), beta: a.float("beta", default: 0.5))
            try append(node(.activation(activation), [inputs[0]]))
        case "Gelu":
            let approximation = a.string("approximate", default: "none")
            guard ["none", "tanh"].contains(approximation) else {
                throw a.unsupported("approximate '\(approximation)' (Gelu's are none and tanh)")
            }
            try append(node(.activation(.gelu(tanh: approximation == "tanh")), [inputs[0]]))
        case "Erf":
            try append(node(.activation(.erf), [inputs[0]]))
        case "Neg":
            try append(node(.activation(.negate), [inputs[0]]))
        case "Tanh":
            try append(node(.activation(.tanh), [inputs[0]]))
        case "Abs":
            try append(node(.activation(.abs), [inputs[0]]))
        case "Sqrt":
            try append(node(.activation(.power(exponent: 0.5)), [inputs[0]]))
        case "Pow":
            guard inputs.count == 2, let exponent = constants[inputs[1]]?.values ?? folded[inputs[1]]?.integerValues?.map(Float.init),
                  exponent.count == 1
            else { throw a.unsupported("the exponent must be a constant scalar") }
            try append(node(.activation(.power(exponent: exponent[0])), [inputs[0]]))
        case "Clip":
            try append(node(.activation(try clipActivation(proto, a)), [inputs[0]]))
        case "MaxPool":
            try append(node(.maxPool(try poolParameters(proto, a, average: false)), [inputs[0]]))
        case "AveragePool":
            try append(node(.averagePool(try poolParameters(proto, a, average: true)), [inputs[0]]))
        case "Slice", "Gather", "Split":
            try lowerSelection(proto, name: name, attributes: a)
        case "Expand", "Tile":
            try lowerRepetition(proto, name: name, attributes: a)
        case "LayerNormalization", "InstanceNormalization", "GroupNormalization":
            try lowerNormalization(proto, name: name, attributes: a)
        case "ReduceMean", "ReduceSum", "ReduceMax":
            try lowerReduction(proto, name: name, attributes: a)
        case "GlobalAveragePool":
            try append(node(.globalAveragePool, [inputs[0]]))
        case "Gemm":
            try lowerGemm(proto, name: name, attributes: a)
        case "MatMul":
            guard inputs.count == 2 else { throw a.unsupported("needs two inputs") }
            if let b = constants[inputs[1]], b.shape.rank == 2, exactShape(of: inputs[0]).map({ $0.count >= 2 }) ?? true {
                // A weight: a linear layer over every leading axis of the activation.
                let weight = "\(inputs[1])ᵀ"
                constants[weight] = transposed(b)
                try append(node(.linear, [inputs[0], weight]))
            } else {
                try append(node(.matmul, Array(inputs)))
            }
        case "Mul" where inputs.contains(where: { pendingSiLU[$0] != nil }):
            let gate = inputs.first { pendingSiLU[$0] != nil }!
            foldedValues[gate] = output
            try append(Node(name: name, opType: "Sigmoid·Mul", operation: .activation(.silu), inputs: [pendingSiLU[gate]!],
                            output: output))
        case "Add", "Sub", "Mul", "Div":
            guard inputs.count == 2 else { throw a.unsupported("needs two inputs") }
            let op: BinaryOp = switch proto.opType {
            case "Add": .add
            case "Sub": .sub
            case "Mul": .mul
            default: .div
            }
            try append(node(.binary(op), Array(inputs)))
        case "Concat":
            try append(node(.concat(axis: a.int("axis", default: 1)), Array(inputs)))
        case "Transpose":
            let rank = shapes?[inputs[0]]?.rank
            guard let permutation = a.ints("perm") ?? rank.map({ Array((0..<$0).reversed()) }) else {
                throw a.unsupported("without perm, the input's rank must be known at load")
            }
            try append(node(.permute(permutation), [inputs[0]]))
        case "Squeeze":
            let axes = opset >= 13 ? (inputs.count > 1 && !inputs[1].isEmpty
                ? try integerOperand(inputs[1], a, role: "axes") : nil) : a.ints("axes")
            try append(node(.squeeze(axes: axes), [inputs[0]]))
        case "Unsqueeze":
            let axes = opset >= 13 ? (inputs.count > 1 ? try integerOperand(inputs[1], a, role: "axes") : nil)
                : a.ints("axes")
            guard let axes else { throw a.unsupported("Unsqueeze needs axes") }
            try append(node(.unsqueeze(axes: axes), [inputs[0]]))
        case "Flatten":
            try append(node(.flatten(axis: a.int("axis", default: 1)), [inputs[0]]))
        case "Reshape":
            guard inputs.count >= 2 else { throw a.unsupported("needs a target shape") }
            let shape = try integerOperand(inputs[1], a, role: "target shape")
            if a.int("allowzero", default: 0) != 0 && shape.contains(0) {
                throw a.unsupported("allowzero=1 with a 0 in the shape is not supported")
            }
            try append(node(.reshape(shape), [inputs[0]]))
        case "Dropout", "Identity":
            // (Of a constant, folded: exporters share equal weights through Identity nodes on initializers.)
            try append(node(.identity, [inputs[0]]))
        case "Cast":
            // Only a cast to float reaches here (`fold` refuses one of image data to another type): the identity.
            try append(node(.identity, [inputs[0]]))
        case "Softmax":
            let axis = a.int("axis", default: opset >= 13 ? -1 : 1)
            if opset < 13 { try checkCoercedSoftmaxAxis(axis, input: inputs[0], a) }
            try append(node(.softmax(axis: axis), [inputs[0]]))
        case "Pad":
            let (padding, value) = try padParameters(proto, a)
            try append(node(.pad(padding, value: value), [inputs[0]]))
        case "Constant":
            addConstant(try constantValue(a, output: output), named: output)
        default:
            if Self.foldedOps.contains(proto.opType) {
                let computed = inputs.first { !$0.isEmpty && folded[$0] == nil } ?? inputs[0]
                throw dataDependence(of: computed, a, role: "input")
            }
            throw ModelError.unsupportedOp(opType: proto.opType, node: name, opset: opset,
                                           supported: ONNXImporter.supportedOps)
        }
    }

    /// ConvTranspose (explicit pads, output_shape or auto_pad), as the transposed convolution plus an Add of its bias.
    private mutating func lowerConvTranspose(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let inputs = try weights(proto.input, a, required: 2, optional: 1)
        guard let weight = constants[inputs[1]], weight.shape.rank == 4 else {
            throw a.unsupported("only 2-D transposed convolution with a constant 4-D weight is supported")
        }
        let pads = try transposedPads(proto.input[0], weight: weight.shape, a)
        let parameters = Conv2DParameters(
            stride: try pair(a.ints("strides"), "strides", a),
            padding: Padding2D(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3]),
            dilation: try pair(a.ints("dilations"), "dilations", a), groups: a.int("group", default: 1))
        let outputPadding = a.ints("output_padding") == nil ? Size2D(0) : try pair(a.ints("output_padding"), "output_padding", a)
        let operation = Operation.convTranspose(parameters, outputPadding: outputPadding)
        let output = proto.output[0]
        guard inputs.count > 2 else {
            return try append(Node(name: name, opType: proto.opType, operation: operation, inputs: Array(inputs.prefix(2)),
                                   output: output))
        }
        let bias = "\(name)/bias"
        let channels = weight.shape[1] * parameters.groups
        guard let values = constants[inputs[2]]?.values, values.count == channels else {
            throw a.unsupported("its bias must hold one value per output channel (\(channels))")
        }
        constants[bias] = HostTensor(shape: [channels, 1, 1], values: values)
        try append(Node(name: "\(name)/transposed", opType: proto.opType, operation: operation,
                        inputs: Array(inputs.prefix(2)), output: "\(name)/unbiased"))
        try append(Node(name: name, opType: proto.opType, operation: .binary(.add), inputs: ["\(name)/unbiased", bias],
                        output: output))
    }

    /// A ConvTranspose's pads: explicit, or (with `output_shape`, or `auto_pad` SAME_UPPER / SAME_LOWER, which ask
    /// for input × stride) what crops the full transposed convolution to that size. The larger half goes at the
    /// end for SAME_UPPER and at the start otherwise, as onnxruntime places them.
    private func transposedPads(_ x: String, weight: TensorShape, _ a: ONNXAttributes) throws -> [Int] {
        let autoPad = a.string("auto_pad", default: "NOTSET")
        guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
            throw a.unsupported("auto_pad \(autoPad) is not an ONNX mode")
        }
        let stride = try pair(a.ints("strides"), "strides", a), dilation = try pair(a.ints("dilations"), "dilations", a)
        let extra = a.ints("output_padding") == nil ? Size2D(0) : try pair(a.ints("output_padding"), "output_padding", a)
        var target: [Int]? = a.ints("output_shape").map { Array($0.suffix(2)) }
        guard target != nil || autoPad.hasPrefix("SAME") else {
            let pads = autoPad == "VALID" ? [0, 0, 0, 0] : a.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4 else { throw a.unsupported("pads must have 4 values, has \(pads)") }
            return pads
        }
        guard let input = shapes?[x]?.dimensions, input.count == 4 else {
            throw a.unsupported("output_shape and auto_pad SAME need the input's shape at load (fix the model's input size)")
        }
        if target == nil { target = [input[2] * stride.height, input[3] * stride.width] }
        guard let target, target.count == 2 else { throw a.unsupported("output_shape must give height and width") }
        let full = [(input[2], stride.height, extra.height, weight[2], dilation.height),
                    (input[3], stride.width, extra.width, weight[3], dilation.width)].map { size, step, add, kernel, gap in
            step * (size - 1) + add + (kernel - 1) * gap + 1
        }
        var heads: [Int] = [], tails: [Int] = []
        for (axis, (whole, wanted)) in zip(full, target).enumerated() {
            guard wanted >= 1, wanted <= whole else {
                throw a.unsupported("output size \(wanted) on spatial axis \(axis) is outside 1…\(whole), the full "
                    + "transposed convolution's")
            }
            let total = whole - wanted
            let head = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            heads.append(head)
            tails.append(total - head)
        }
        return heads + tails
    }

    /// The node's first `required` inputs plus up to `optional` more, checking that every one after the first (the
    /// activation) is a constant weight.
    private func weights(_ inputs: [String], _ a: ONNXAttributes, required: Int, optional: Int) throws -> [String] {
        // Trailing optional inputs may be left out (or empty). A required input left empty never gets here: the
        // op's schema check in `add` refuses it, so nothing shifts into its place (a bias read as the weight).
        var present = inputs
        while present.count > required, present.last?.isEmpty == true { present.removeLast() }
        guard present.count >= required, present.count <= required + optional else {
            throw a.unsupported("expects \(required)–\(required + optional) inputs, has \(present.count)")
        }
        for weight in present.dropFirst() where constants[weight] == nil {
            throw a.unsupported("weight '\(weight)' must be a constant (an initializer), not computed")
        }
        return present
    }

    // MARK: Convolution and pooling

    private mutating func convParameters(_ proto: Onnx_NodeProto, _ a: ONNXAttributes) throws -> Conv2DParameters {
        guard proto.input.count >= 2, let weight = constants[proto.input[1]], weight.shape.rank == 4 else {
            throw a.unsupported("only 2-D convolution with a constant 4-D weight is supported")
        }
        let kernel = [weight.shape[2], weight.shape[3]]
        if let declared = a.ints("kernel_shape"), declared != kernel {
            throw a.unsupported("kernel_shape \(declared) disagrees with the weight \(weight.shape)")
        }
        let strides = try pair(a.ints("strides"), "strides", a)
        let dilations = try pair(a.ints("dilations"), "dilations", a)
        return Conv2DParameters(
            stride: strides, padding: try padding(proto, a, kernel: kernel, strides: strides, dilations: dilations),
            dilation: dilations, groups: a.int("group", default: 1))
    }

    private mutating func poolParameters(_ proto: Onnx_NodeProto, _ a: ONNXAttributes, average: Bool) throws -> Pool2DParameters {
        guard let kernel = a.ints("kernel_shape"), kernel.count == 2 else {
            throw a.unsupported("only 2-D pooling (kernel_shape of 2 values) is supported")
        }
        let strides = try pair(a.ints("strides"), "strides", a)
        let dilations = try pair(a.ints("dilations"), "dilations", a)
        if average && dilations != Size2D(1) { throw a.unsupported("dilated average pooling is not supported") }
        if !average && a.int("storage_order", default: 0) != 0 {
            throw a.unsupported("storage_order=1 is not supported")
        }
        return Pool2DParameters(
            kernel: Size2D(kernel[0], kernel[1]), stride: strides,
            padding: try padding(proto, a, kernel: kernel, strides: strides, dilations: dilations), dilation: dilations,
            ceilMode: a.int("ceil_mode", default: 0) != 0, countIncludePad: a.int("count_include_pad", default: 0) != 0)
    }

    /// A 2-value attribute as a `Size2D` (1×1 when absent).
    func pair(_ values: [Int]?, _ attribute: String, _ a: ONNXAttributes) throws -> Size2D {
        guard let values else { return Size2D(1) }
        guard values.count == 2 else { throw a.unsupported("\(attribute) must have 2 values, has \(values)") }
        return Size2D(values[0], values[1])
    }

    /// Explicit `pads` (ONNX order: top, left, bottom, right) or the padding `auto_pad` asks for, which depends on
    /// the input size and so needs it to be fixed.
    private mutating func padding(_ proto: Onnx_NodeProto, _ a: ONNXAttributes, kernel: [Int], strides: Size2D,
                         dilations: Size2D) throws -> Padding2D {
        let mode = a.string("auto_pad", default: "NOTSET")
        switch mode {
        case "NOTSET":
            guard let pads = a.ints("pads") else { return .zero }
            guard pads.count == 4 else { throw a.unsupported("pads must have 4 values, has \(pads)") }
            return Padding2D(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3])
        case "VALID":
            return .zero
        case "SAME_UPPER", "SAME_LOWER":
            guard let shape = shapes?[proto.input[0]], shape.rank == 4 else {
                throw a.unsupported("auto_pad \(mode) needs the input size to be fixed in the model")
            }
            readsInputShape = true
            func split(_ extent: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let outputs = (extent + s - 1) / s
                let total = max((outputs - 1) * s + (k - 1) * d + 1 - extent, 0)
                return mode == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (top, bottom) = split(shape[2], kernel[0], strides.height, dilations.height)
            let (left, right) = split(shape[3], kernel[1], strides.width, dilations.width)
            return Padding2D(top: top, left: left, bottom: bottom, right: right)
        default:
            throw a.unsupported("auto_pad \(mode) is not supported")
        }
    }

    // MARK: Batch normalization

    /// Inference BatchNormalization `y = (x − mean) / √(var + ε) · γ + β` as a per-channel scale and shift, folded
    /// into the Conv before it when that Conv's output feeds nothing else.
    private mutating func lowerBatchNormalization(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes)
        throws
    {
        guard a.int("training_mode", default: 0) == 0 else { throw a.unsupported("training_mode=1 is not supported") }
        guard a.int("spatial", default: 1) == 1 else {
            throw a.unsupported("spatial=0 (statistics per element, opsets before 9) is not supported")
        }
        let parameters = try proto.input.dropFirst().prefix(4).map { value -> [Float] in
            guard let tensor = constants[value] else { throw a.unsupported("'\(value)' must be a constant") }
            return tensor.values
        }
        guard parameters.count == 4, Set(parameters.map(\.count)).count == 1 else {
            throw a.unsupported("scale, bias, mean and variance must be constants of one length")
        }
        let epsilon = Double(a.float("epsilon", default: 1e-5))
        let (gamma, beta, mean, variance) = (parameters[0], parameters[1], parameters[2], parameters[3])
        // A variance below −ε has no square root: folded, it would turn the weights into NaN.
        if let channel = variance.firstIndex(where: { !(Double($0) + epsilon > 0) }) {
            throw a.unsupported("its variance for channel \(channel) is \(variance[channel]); it must be above −epsilon")
        }
        let scale = zip(gamma, variance).map { Double($0) / (Double($1) + epsilon).squareRoot() }
        let shift = (0..<scale.count).map { Double(beta[$0]) - Double(mean[$0]) * scale[$0] }

        let x = proto.input[0], output = proto.output[0]
        if let index = producer(of: x), case .conv = nodes[index].operation, consumers[x] == 1,
            !outputs.contains(x), try foldIntoConv(at: index, scale: scale, shift: shift, suffix: name)
        {
            rename(outputOf: index, to: output)
            return
        }
        let scaleName = "\(name)/scale", shiftName = "\(name)/shift"
        constants[scaleName] = HostTensor(shape: [scale.count], values: scale.map { Float($0) })
        constants[shiftName] = HostTensor(shape: [shift.count], values: shift.map { Float($0) })
        try append(Node(name: name, opType: proto.opType, operation: .channelAffine,
                        inputs: [x, scaleName, shiftName], output: output))
    }

    /// Scales the Conv's weights per output channel and adjusts its bias; false when the channel counts differ
    /// (then the normalization runs on its own).
    private mutating func foldIntoConv(at index: Int, scale: [Double], shift: [Double], suffix: String) throws -> Bool {
        let conv = nodes[index]
        guard let weight = constants[conv.inputs[1]], weight.shape.rank > 0, weight.shape[0] > 0,
              weight.shape[0] == scale.count
        else { return false }
        let perChannel = weight.shape.count / weight.shape[0]
        let folded = weight.values.enumerated().map { Float(Double($1) * scale[$0 / perChannel]) }
        let bias = conv.inputs.count > 2 ? constants[conv.inputs[2]]?.values : nil
        guard bias.map({ $0.count == scale.count }) ?? true else { return false }  // refused by the Conv's own check
        let foldedBias = (0..<scale.count).map { Float(Double(bias?[$0] ?? 0) * scale[$0] + shift[$0]) }
        let weightName = "\(conv.inputs[1])@\(suffix)", biasName = "\(conv.name)/bias@\(suffix)"
        constants[weightName] = HostTensor(shape: weight.shape, values: folded)
        constants[biasName] = HostTensor(shape: [scale.count], values: foldedBias)
        nodes[index].inputs = [conv.inputs[0], weightName, biasName]
        nodes[index].opType = "Conv+BatchNormalization"
        return true
    }
}
