/// Shape checks both backends run at the top of each op, so a mismatched tensor is rejected the same way,
/// with the same message, whichever backend is in use.
extension Backend {
    public func checkConv2d(
        input: TensorShape, weight: TensorShape, bias: TensorShape?, output: TensorShape,
        parameters: Conv2DParameters
    ) throws -> Conv2DGeometry {
        let geometry = try Conv2DGeometry(input: input, weight: weight, parameters: parameters)
        try geometry.requireBias(bias)
        try output.require(geometry.output, "output", of: "conv2d")
        return geometry
    }

    public func checkPool2d(
        _ kind: PoolKind, input: TensorShape, output: TensorShape, argmax: TensorShape? = nil,
        parameters: Pool2DParameters
    ) throws -> Pool2DGeometry {
        let geometry = try Pool2DGeometry(kind, input: input, parameters: parameters)
        try output.require(geometry.output, "output", of: kind.rawValue)
        try argmax?.require(geometry.output, "argmax", of: kind.rawValue)
        return geometry
    }

    public func checkGlobalAvgPool2d(input: TensorShape, output: TensorShape) throws {
        try input.requireNCHW("input", of: "global_avg_pool2d")
        try output.require([input[0], input[1], 1, 1], "output", of: "global_avg_pool2d")
    }

    public func checkLinear(input: TensorShape, weight: TensorShape, bias: TensorShape?, output: TensorShape)
        throws -> LinearGeometry
    {
        let geometry = try LinearGeometry(input: input, weight: weight)
        try geometry.requireBias(bias)
        try output.require(geometry.output, "output", of: "linear")
        return geometry
    }

    /// Throws unless every shape equals the first and is non-empty.
    public func checkSameShapes(_ shapes: [TensorShape], roles: [String], of op: String) throws {
        try shapes[0].requirePositive(roles[0], of: op)
        for (shape, role) in zip(shapes, roles).dropFirst() {
            try shape.require(shapes[0], role, of: op)
        }
    }

    public func checkBinary(_ op: BinaryOp, a: TensorShape, b: TensorShape, output: TensorShape) throws
        -> BroadcastGeometry
    {
        let geometry = try BroadcastGeometry(a: a, b: b, op: op)
        try output.require(geometry.output, "output", of: op.rawValue)
        return geometry
    }

    public func checkChannelAffine(input: TensorShape, scale: TensorShape, shift: TensorShape?, output: TensorShape)
        throws
    {
        let op = "channel_affine"
        try input.requirePositive("input", of: op)
        guard input.rank >= 2 else { throw ShapeError(op: op, message: "input \(input) has no channel axis") }
        try scale.require([input[1]], "scale", of: op)
        try shift?.require([input[1]], "shift", of: op)
        try output.require(input, "output", of: op)
    }

    public func checkPad2d(input: TensorShape, output: TensorShape, padding: Padding2D) throws -> Pad2DGeometry {
        let geometry = try Pad2DGeometry(input: input, padding: padding)
        try output.require(geometry.output, "output", of: "pad2d")
        return geometry
    }

    public func checkTranspose2d(input: TensorShape, output: TensorShape) throws {
        try input.requirePositive("input", of: "transpose2d")
        guard input.rank == 2 else { throw ShapeError(op: "transpose2d", message: "input \(input) must be 2-D") }
        try output.require([input[1], input[0]], "output", of: "transpose2d")
    }

    /// Throws unless `shape` has the element count of `tensor` (a reshape changes the view, never the data).
    public func checkReshape(_ tensor: TensorShape, to shape: TensorShape) throws {
        try shape.requirePositive("shape", of: "reshape")
        guard shape.count == tensor.count else {
            throw ShapeError(op: "reshape", message: "cannot view \(tensor) (\(tensor.count) elements) as \(shape)")
        }
    }

    /// Throws unless both ranges of a `copyElements` lie inside their tensors.
    public func checkCopy(source: TensorShape, from sourceOffset: Int, destination: TensorShape, at destinationOffset: Int,
                          count: Int) throws {
        for (role, shape, offset) in [("source", source, sourceOffset), ("destination", destination, destinationOffset)]
        where offset < 0 || count < 0 || offset + count > shape.count {
            throw ShapeError(op: "copyElements",
                             message: "\(role) range \(offset)..<\(offset + count) is outside its \(shape.count) elements (\(shape))")
        }
    }

    public func checkConcat(inputs: [TensorShape], output: TensorShape) throws -> ConcatGeometry {
        let geometry = try ConcatGeometry(inputs: inputs)
        try output.require(geometry.output, "output", of: "concat")
        return geometry
    }

    /// Input and output NCHW of one shape, maps N×6.
    public func checkAffineResample(input: TensorShape, maps: TensorShape, output: TensorShape) throws
        -> AffineResampleGeometry
    {
        try AffineResampleGeometry(input: input, maps: maps, output: output)
    }

    /// Operands and their optional gradients for `binaryBackward`.
    public func checkBinaryBackward(
        _ op: BinaryOp, a: TensorShape, b: TensorShape, gradOutput: TensorShape, gradA: TensorShape?,
        gradB: TensorShape?
    ) throws -> BroadcastGeometry {
        let geometry = try checkBinary(op, a: a, b: b, output: gradOutput)
        try gradA?.require(a, "gradA", of: op.rawValue)
        try gradB?.require(b, "gradB", of: op.rawValue)
        return geometry
    }

    /// Activation, gradient and output of one NCHW shape with at least two images; scratch as the geometry says.
    public func checkDiversity(activation: TensorShape, gradient: TensorShape, output: TensorShape, scratch: TensorShape)
        throws -> DiversityGeometry
    {
        let geometry = try DiversityGeometry(activation: activation)
        try checkSameShapes([activation, gradient, output], roles: ["activation", "gradient", "output"], of: "diversity")
        try scratch.require(geometry.scratchShape, "scratch", of: "diversity")
        return geometry
    }

    /// Activations and gradients of one NCHW shape, weights N×K (when given), map N×1×h×w (when given).
    public func checkCAM(activation: TensorShape, gradient: TensorShape?, weights: TensorShape?, map: TensorShape?)
        throws -> CAMGeometry
    {
        let geometry = try CAMGeometry(activation: activation)
        try gradient?.require(activation, "gradient", of: "cam")
        try weights?.require(geometry.weightShape, "weights", of: "cam")
        try map?.require(geometry.mapShape, "map", of: "cam")
        return geometry
    }
}
