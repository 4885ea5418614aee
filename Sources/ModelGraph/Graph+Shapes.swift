import TensorOps

extension Graph {
    /// The shape of every activation when the input has `inputShape`, checking every node's shapes on the way;
    /// with a `target` value, only of the nodes it depends on (layers above it may not accept this input size).
    ///
    /// - Throws: `ModelError.shape` naming the node whose inputs do not fit (with the shapes involved).
    public func inferShapes(input inputShape: TensorShape, through target: String? = nil) throws -> [String: TensorShape] {
        var shapes: [String: TensorShape] = [input.name: inputShape]
        for (name, tensor) in constants { shapes[name] = tensor.shape }
        let needed = target.map(ancestors(of:))
        for node in nodes where needed?.contains(node.output) ?? true {
            do {
                shapes[node.output] = try node.outputShape(inputs: node.inputs.map { name in
                    guard let shape = shapes[name] else { throw ModelError.unknownValue(name, node: node.name) }
                    return shape
                })
            } catch let error as ShapeError {
                throw ModelError.shape(node: node.name, opType: node.opType, error)
            }
        }
        return shapes
    }
}

extension Node {
    /// The output shape given the input shapes, using the same geometry checks the backends run.
    /// - Throws: `ShapeError` when the inputs do not fit.
    public func outputShape(inputs: [TensorShape]) throws -> TensorShape {
        switch operation {
        case .conv(let parameters):
            let geometry = try Conv2DGeometry(input: inputs[0], weight: inputs[1], parameters: parameters)
            try geometry.requireBias(inputs.count > 2 ? inputs[2] : nil)
            return geometry.output
        case .channelAffine:
            try inputs[0].requireChannels(inputs[1].count, of: "channel_affine")
            return inputs[0]
        case .activation, .identity:
            return inputs[0]
        case .softmax(let axis):
            return try SoftmaxGeometry(shape: inputs[0], axis: axis).shape
        case .maxPool(let parameters):
            return try Pool2DGeometry(.max, input: inputs[0], parameters: parameters).output
        case .averagePool(let parameters):
            return try Pool2DGeometry(.average, input: inputs[0], parameters: parameters).output
        case .globalAveragePool:
            try inputs[0].requireNCHW("input", of: "global_avg_pool2d")
            return [inputs[0][0], inputs[0][1], 1, 1]
        case .linear:
            let geometry = try LinearGeometry(input: inputs[0], weight: inputs[1])
            try geometry.requireBias(inputs.count > 2 ? inputs[2] : nil)
            return geometry.output
        case .binary(let op):
            return try BroadcastGeometry(a: inputs[0], b: inputs[1], op: op).output
        case .concat:
            return try concatShape(inputs)
        case .reshape(let target):
            return try reshapedShape(inputs[0], target: target)
        case .flatten(let axis):
            let rank = inputs[0].rank
            let split = axis < 0 ? axis + rank : axis
            guard (0...rank).contains(split) else {
                throw ShapeError(op: "flatten", message: "axis \(axis) is outside rank \(rank) of \(inputs[0])")
            }
            let dims = inputs[0].dimensions
            return [dims[..<split].reduce(1, *), dims[split...].reduce(1, *)]
        case .pad(let padding, _):
            return try Pad2DGeometry(input: inputs[0], padding: padding).output
        case .transpose:
            guard inputs[0].rank == 2 else {
                throw ShapeError(op: "transpose2d", message: "input \(inputs[0]) must be 2-D")
            }
            return [inputs[0][1], inputs[0][0]]
        }
    }

    /// Channel concatenation of rank-4 (NCHW) or rank-2 (N×features) inputs.
    private func concatShape(_ inputs: [TensorShape]) throws -> TensorShape {
        if inputs.allSatisfy({ $0.rank == 2 }) {
            let output = try ConcatGeometry(inputs: inputs.map { [$0[0], $0[1], 1, 1] }).output
            return [output[0], output[1]]
        }
        return try ConcatGeometry(inputs: inputs).output
    }

    /// ONNX Reshape: 0 keeps the input's dimension at that position, one −1 takes what is left.
    func reshapedShape(_ input: TensorShape, target: [Int]) throws -> TensorShape {
        var dims: [Int] = []
        var inferred: Int?
        for (axis, value) in target.enumerated() {
            switch value {
            case 0:
                guard axis < input.rank else {
                    throw ShapeError(op: "reshape", message: "0 at axis \(axis) but input \(input) has rank \(input.rank)")
                }
                dims.append(input[axis])
            case -1:
                guard inferred == nil else {
                    throw ShapeError(op: "reshape", message: "more than one -1 in target shape \(target)")
                }
                inferred = axis
                dims.append(1)
            case 1...:
                dims.append(value)
            default:
                throw ShapeError(op: "reshape", message: "invalid dimension \(value) in target shape \(target)")
            }
        }
        let known = dims.reduce(1, *)
        if let inferred {
            guard input.count % known == 0 else {
                throw ShapeError(op: "reshape", message: "cannot reshape \(input) to \(target)")
            }
            dims[inferred] = input.count / known
        }
        let result = TensorShape(dims)
        guard result.count == input.count else {
            throw ShapeError(op: "reshape", message: "cannot reshape \(input) (\(input.count) elements) to \(target)")
        }
        return result
    }
}
