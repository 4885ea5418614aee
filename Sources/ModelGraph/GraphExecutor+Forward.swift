import TensorOps

extension GraphExecutor {
    /// Runs every node on `input` (N×… matching the model's input, any batch size N) and returns the model's
    /// first output. Every activation stays available through `value(_:)`.
    /// - Throws: `ModelError.inputMismatch` for an input of the wrong shape; backend errors.
    @discardableResult
    public func forward(_ input: B.Tensor) throws -> B.Tensor {
        try prepareShapes(for: input.shape)
        values = [graph.input.name: input]
        lastPassOutputOnly = outputOnly
        lastPassFolding = EpiloguePlan()
        // What this pass folds into convolutions: everything it may (output-only), what backward can differentiate
        // at the outputs while keeping the values asked for (`foldsEpilogues`), or nothing.
        var folding = EpiloguePlan()
        if outputOnly {
            let plan = outputOnlyPlan ?? {
                let epilogues = graph.epiloguePlan(shapes: shapes)
                return (epilogues, graph.bufferPlan(shapes: shapes, epilogues: epilogues))
            }()
            (outputOnlyPlan, folding) = (plan, plan.epilogues)
        } else if let kept = foldsEpilogues {
            let keeping = Set(try kept.map { try graph.resolve($0) })
            folding = gradientPassPlan.flatMap { $0.keeping == keeping ? $0.epilogues : nil }
                ?? graph.epiloguePlan(shapes: shapes, keeping: keeping)
            (gradientPassPlan, lastPassFolding) = ((keeping, folding), folding)
        }
        for node in graph.nodes where !folding.folded.contains(node.output) {
            if let fused = folding.convolutions[node.name] {
                values[fused.output] = try running(node) { try runFused(node, fused) }
            } else {
                values[node.output] = try running(node) { try run(node) }
            }
        }
        if outputOnly {
            // Other values' buffers are shared with later ones: only these still hold what their names say.
            values = values.filter { $0.key == graph.input.name || graph.outputs.contains($0.key) }
        }
        return try operand(graph.outputs[0])
    }

    /// Runs only the nodes `target` (a value or node name) depends on and returns its activation: the forward
    /// pass of filter visualization, which never needs the layers above the one it looks at.
    @discardableResult
    public func forward(_ input: B.Tensor, through target: String) throws -> B.Tensor {
        let value = try graph.resolve(target)
        try prepareShapes(for: input.shape, through: value)
        values = [graph.input.name: input]
        (lastPassOutputOnly, lastPassFolding) = (false, EpiloguePlan())
        let needed = graph.ancestors(of: value)
        for node in graph.nodes where needed.contains(node.output) {
            values[node.output] = try running(node) { try run(node) }
        }
        return try operand(value)
    }

    /// `forward` as an output-only pass (`outputOnly`) for this call only: for passes whose output is all the
    /// caller reads (masked or occluded copies of an image, a forward-only run).
    @discardableResult
    public func forwardOutput(_ input: B.Tensor) throws -> B.Tensor {
        let saved = outputOnly
        outputOnly = true
        defer { outputOnly = saved }
        return try forward(input)
    }

    /// Uploads `input` and runs `forwardOutput`.
    @discardableResult
    public func forwardOutput(_ input: HostTensor) throws -> B.Tensor { try forwardOutput(try uploaded(input)) }

    /// Runs only the nodes computed from `value` (a value or node name), with `replacement` in its place, and
    /// returns the model's first output: Ablation-CAM's forwards, which change one layer's channels and need only
    /// the layers after it. `replacement` is the value's shape at any batch K. Other values those nodes read (a
    /// skip connection around `value`) come from image `image` of the last full pass, repeated K times. That pass's
    /// values, shapes and buffers are left as they were, so `value(_:)` and `backward` still read it.
    /// - Throws: `ExecutionError` before a full pass, for a replacement of the wrong shape, or for a value the
    ///   output does not depend on.
    public func forwardOutput(from value: String, replacedBy replacement: B.Tensor, image: Int = 0) throws -> B.Tensor {
        let start = try graph.resolve(value)
        let original = try self.value(start)  // refuses before a full pass and after an output-only one
        guard let input = values[graph.input.name] else { throw ExecutionError.noForwardPass }
        precondition((0..<input.shape[0]).contains(image), "image \(image) of a pass of \(input.shape[0])")
        let batch = replacement.shape.rank > 0 ? replacement.shape[0] : 0
        let tailShapes = try graph.inferShapes(input: TensorShape([batch] + input.shape.dimensions.dropFirst()),
                                               through: nil)
        guard tailShapes[start] == replacement.shape else {
            throw ExecutionError.replacementShape(value: start, expected: tailShapes[start] ?? original.shape,
                                                  got: replacement.shape)
        }
        let downstream = graph.descendants(of: start)
        guard downstream.contains(graph.outputs[0]) else { throw ExecutionError.outputIndependent(of: start) }

        let full = (values: values, shapes: shapes)
        defer { (values, shapes, passRole) = (full.values, full.shapes, "") }
        (values, shapes, passRole) = ([start: replacement], tailShapes, "tail:")
        for node in graph.nodes where downstream.contains(node.output) && node.output != start {
            for name in node.inputs where values[name] == nil && constants[name] == nil {
                values[name] = try repeated(full.values[name], image: image, as: name)
            }
            values[node.output] = try running(node) { try run(node) }
        }
        return try operand(graph.outputs[0])
    }

    /// Image `image` of `tensor` (a value of the full pass) repeated over the tail pass's batch.
    private func repeated(_ tensor: B.Tensor?, image: Int, as name: String) throws -> B.Tensor {
        guard let tensor else { throw ExecutionError.missingValue(name) }
        let target = try shape(name)
        let perImage = tensor.shape.count / tensor.shape[0]
        guard perImage * target[0] == target.count else {
            throw ExecutionError.replacementShape(value: name, expected: target, got: tensor.shape)
        }
        let copies = try buffer("repeated:\(name)", target)
        for copy in 0..<target[0] {
            try backend.copyElements(tensor, from: image * perImage, into: copies, at: copy * perImage, count: perImage)
        }
        return copies
    }

    /// Uploads `input` and runs `forward`.
    @discardableResult
    public func forward(_ input: HostTensor) throws -> B.Tensor { try forward(try uploaded(input)) }

    /// `input` in the executor's reusable input buffer.
    private func uploaded(_ input: HostTensor) throws -> B.Tensor {
        try prepareShapes(for: input.shape)
        let tensor = try buffer("input", input.shape)
        try backend.write(input, into: tensor)
        return tensor
    }

    /// `body` (running `node`), with a backend failure (a device allocation refused, a launch that failed) naming
    /// the node and its output shape: a bare `CL_INVALID_BUFFER_SIZE` says nothing about which layer asked for what.
    private func running(_ node: Node, _ body: () throws -> B.Tensor) throws -> B.Tensor {
        do {
            return try body()
        } catch let error as ModelError {
            throw error
        } catch let error as ShapeError {
            throw ModelError.shape(node: node.name, opType: node.opType, error)
        } catch {
            let shape = (try? shape(node.output)).map { " (output \($0), \(4 * $0.count) bytes)" } ?? ""
            throw ExecutionError.nodeFailed(node: node.name, opType: node.opType, detail: "\(error)" + shape)
        }
    }

    /// The convolution `node` with the nodes `fused` folds into its store, into the last folded node's buffer.
    private func runFused(_ node: Node, _ fused: FusedConvolution) throws -> B.Tensor {
        guard case .conv(let parameters) = node.operation else { preconditionFailure("only convolutions fuse") }
        let y = try outputBuffer(fused.output, try shape(fused.output))
        try backend.conv2dForward(
            input: try operand(node.inputs[0]), weight: try operand(node.inputs[1]),
            bias: node.inputs.count > 2 ? try operand(node.inputs[2]) : nil, output: y, parameters: parameters,
            epilogue: fused.epilogue, residual: try fused.residual.map(operand))
        return y
    }

    private func run(_ node: Node) throws -> B.Tensor {
        let shape = try shape(node.output)
        let x = try operand(node.inputs[0])
        func output() throws -> B.Tensor { try outputBuffer(node.output, shape) }
        switch node.operation {
        case .conv(let parameters):
            let y = try output()
            try backend.conv2dForward(
                input: x, weight: try operand(node.inputs[1]),
                bias: node.inputs.count > 2 ? try operand(node.inputs[2]) : nil, output: y, parameters: parameters)
            return y
        case .convTranspose(let parameters, _):
            let y = try output()
            try backend.conv2dBackwardInput(gradOutput: x, weight: try operand(node.inputs[1]), gradInput: y,
                                            parameters: parameters)
            return y
        case .channelAffine:
            let y = try output()
            try backend.channelAffineForward(
                input: x, scale: try operand(node.inputs[1]), shift: try operand(node.inputs[2]), output: y)
            return y
        case .activation(let activation):
            let y = try output()
            try backend.activationForward(activation, input: x, output: y)
            return y
        case .maxPool(let parameters):
            let y = try output()
            try backend.maxPool2dForward(
                input: x, output: y, argmax: try indexBuffer("argmax:\(node.name)", shape), parameters: parameters)
            return y
        case .averagePool(let parameters):
            let y = try output()
            try backend.avgPool2dForward(input: x, output: y, parameters: parameters)
            return y
        case .reduce(let op, let axes, _):
            let y = try output()
            try backend.reduceForward(op, input: x, output: y, axes: axes)
            return y
        case .globalAveragePool:
            let y = try output()
            try backend.globalAvgPool2dForward(input: x, output: y)
            return y
        case .linear:
            let y = try output()
            try backend.linearForward(
                input: x, weight: try operand(node.inputs[1]),
                bias: node.inputs.count > 2 ? try operand(node.inputs[2]) : nil, output: y)
            return y
        case .binary(let op):
            let y = try output()
            try backend.binaryForward(op, x, try operand(node.inputs[1]), output: y)
            return y
        case .matmul:
            let y = try output()
            try backend.matmulForward(a: x, b: try operand(node.inputs[1]), output: y)
            return y
        case .concat(let axis):
            let y = try output()
            let inputs = try node.inputs.map { try concatView(try operand($0), axis: axis) }
            try backend.concatForward(inputs, output: try concatView(y, axis: axis))
            return y
        case .reshape, .flatten, .identity, .squeeze, .unsqueeze:
            return try backend.reshaped(x, to: shape)
        case .softmax(let axis):
            let y = try output()
            try backend.softmaxForward(input: x, output: y, axis: axis)
            return y
        case .standardize(let axis, let epsilon):
            let y = try output()
            try backend.standardizeForward(input: x, output: y, axis: axis < 0 ? axis + shape.rank : axis,
                                           epsilon: .variance(epsilon))
            return y
        case .resize(let mode, _, _):
            let y = try output()
            try backend.resizeForward(input: x, output: y, mode: mode)
            return y
        case .pad(let padding, let value):
            let y = try output()
            try backend.pad2dForward(input: x, output: y, padding: padding, value: value)
            return y
        case .permute(let permutation):
            let y = try output()
            try backend.permute(input: x, output: y, permutation: permutation)
            return y
        case .slice(let ranges):
            let y = try output()
            try backend.sliceForward(input: x, output: y, ranges: try Node.resolve(ranges, x.shape))
            return y
        }
    }

    /// A tensor viewed as outer × extent × inner × 1 around the concatenation axis, so the channel concatenation
    /// kernels join along any axis.
    func concatView(_ tensor: B.Tensor, axis: Int) throws -> B.Tensor {
        let resolved = axis < 0 ? axis + tensor.shape.rank : axis
        return try backend.reshaped(tensor, to: Node.concatView(tensor.shape, axis: resolved))
    }
}
