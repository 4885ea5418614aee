import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func addForward(_ a: Tensor, _ b: Tensor, output: Tensor) throws {
        try checkSameShapes([a.shape, b.shape, output.shape], roles: ["a", "b", "output"], of: "add")
        try launch(
            try kernel("add_forward", in: "elementwise.cl"), global: [a.shape.count],
            arguments: [.buffer(a.buffer), .buffer(b.buffer), .buffer(output.buffer), .int(a.shape.count)])
    }

    public func addBackward(gradOutput: Tensor, gradA: Tensor, gradB: Tensor) throws {
        try checkSameShapes(
            [gradOutput.shape, gradA.shape, gradB.shape], roles: ["gradOutput", "gradA", "gradB"], of: "add")
        try launch(
            try kernel("add_backward", in: "elementwise.cl"), global: [gradOutput.shape.count],
            arguments: [.buffer(gradOutput.buffer), .buffer(gradA.buffer), .buffer(gradB.buffer),
                        .int(gradOutput.shape.count)])
    }

    public func concatForward(_ inputs: [Tensor], output: Tensor) throws {
        let g = try checkConcat(inputs: inputs.map(\.shape), output: output.shape)
        let kernel = try kernel("concat_forward", in: "elementwise.cl")
        for (input, offset) in zip(inputs, g.channelOffsets) {
            try launch(kernel, global: [input.shape.count / input.shape[0], input.shape[0]],
                       arguments: [.buffer(input.buffer), .buffer(output.buffer)] + concatSizes(input.shape, g, offset))
        }
    }

    public func concatBackward(gradOutput: Tensor, gradInputs: [Tensor]) throws {
        let g = try checkConcat(inputs: gradInputs.map(\.shape), output: gradOutput.shape)
        let kernel = try kernel("concat_backward", in: "elementwise.cl")
        for (gradInput, offset) in zip(gradInputs, g.channelOffsets) {
            try launch(kernel, global: [gradInput.shape.count / gradInput.shape[0], gradInput.shape[0]],
                       arguments: [.buffer(gradOutput.buffer), .buffer(gradInput.buffer)]
                           + concatSizes(gradInput.shape, g, offset))
        }
    }

    /// N, CI, HW, CTOTAL, OFFSET for one concatenated input of `shape`.
    private func concatSizes(_ shape: TensorShape, _ g: ConcatGeometry, _ offset: Int) -> [KernelArgument] {
        [.int(shape[0]), .int(shape[1]), .int(shape[2] * shape[3]), .int(g.output[1]), .int(offset)]
    }
}
