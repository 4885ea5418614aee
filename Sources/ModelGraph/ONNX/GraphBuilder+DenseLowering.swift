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
            try append(Node(name: "\(name)/transA", opType: "Gemm", operation: .transpose, inputs: [x], output: transposedA))
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

    /// ReduceMean over the spatial axes of an NCHW tensor (squeeze-and-excitation blocks, pooling heads written as a
    /// mean): global average pooling, then a flatten when `keepdims` is 0. Axes are an attribute before opset 18 and
    /// an input from 18 on. Other axes are refused until reductions have kernels of their own.
    mutating func lowerSpatialMean(_ proto: Onnx_NodeProto, name: String, attributes a: ONNXAttributes) throws {
        let axes = opset >= 18 ? (proto.input.count > 1 && !proto.input[1].isEmpty
            ? try integerOperand(proto.input[1], a, role: "axes") : nil) : a.ints("axes")
        guard let axes else { throw a.unsupported("the axes must be constants (reducing over every axis is not supported)") }
        let rank = shapes?[proto.input[0]]?.rank ?? 4
        guard rank == 4, Set(axes.map { $0 < 0 ? $0 + rank : $0 }) == [2, 3] else {
            throw a.unsupported("ReduceMean over axes \(axes) of a rank-\(rank) tensor is not supported (only the "
                + "spatial axes 2 and 3 of an NCHW tensor)")
        }
        let output = proto.output[0]
        let keepDimensions = a.int("keepdims", default: 1) != 0
        let pooled = keepDimensions ? output : "\(name)/pooled"
        try append(Node(name: name, opType: "ReduceMean", operation: .globalAveragePool, inputs: [proto.input[0]],
                        output: pooled))
        if !keepDimensions {
            try append(Node(name: "\(name)/squeeze", opType: "ReduceMean", operation: .flatten(axis: 1), inputs: [pooled],
                            output: output))
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

    /// Concatenation must be along channels: axis 1 of NCHW or of N×features.
    func checkConcatAxis(_ axis: Int, input: String, _ a: ONNXAttributes) throws {
        let rank = shapes?[input]?.rank
        let resolved = axis < 0 ? axis + (rank ?? 4) : axis
        guard resolved == 1 else {
            throw a.unsupported("concatenation along axis \(axis) is not supported (only channels, axis 1)")
        }
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
