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

    public func checkConcat(inputs: [TensorShape], output: TensorShape) throws -> ConcatGeometry {
        let geometry = try ConcatGeometry(inputs: inputs)
        try output.require(geometry.output, "output", of: "concat")
        return geometry
    }
}
