import TensorOps

extension GraphExecutor {
    /// Back-propagates `seed` (∂L/∂`from`, the shape of that value) through the last forward pass and returns
    /// ∂L/∂t for each name in `targets` (the model input, or any value or node name). Only nodes between the
    /// targets and `from` run; weight gradients are never computed.
    ///
    /// A target that does not influence `from` gets a zero gradient.
    /// - Throws: `ModelError.noSuchLayer` for unknown names, `ExecutionError` before a forward pass or for a seed
    ///   of the wrong shape, backend errors.
    public func backward(from: String, seed: B.Tensor, to targets: [String]) throws -> [String: B.Tensor] {
        try backward(seeds: [(from, seed)], to: targets)
    }

    /// `backward(from:seed:to:)` for a loss with terms at several values: each seed is ∂L/∂value at its value
    /// (a value deeper in the graph adds its own back-propagated share to a shallower seed).
    public func backward(seeds: [(value: String, gradient: B.Tensor)], to targets: [String]) throws -> [String: B.Tensor] {
        guard !values.isEmpty else { throw ExecutionError.noForwardPass }
        guard !lastPassOutputOnly else { throw ExecutionError.backwardAfterFusedForward }
        var gradients: [String: B.Tensor] = [:]
        var sums = 0
        // A second gradient of a value (a fan-out, or a seed at a value deeper seeds also reach) is summed into a
        // fresh buffer, never in place, since either side may be a view of another or the caller's seed.
        func add(_ contribution: B.Tensor, to value: String) throws {
            guard let existing = gradients[value] else {
                gradients[value] = contribution
                return
            }
            let sum = try buffer("gradient-sum:\(sums)", existing.shape)
            sums += 1
            try backend.binaryForward(.add, existing, contribution, output: sum)
            gradients[value] = sum
        }
        for (name, seed) in seeds {
            let seedValue = try graph.resolve(name)
            let seedShape = try shape(seedValue)
            guard seed.shape == seedShape else {
                throw ExecutionError.seedShape(value: seedValue, expected: seedShape, got: seed.shape)
            }
            try add(seed, to: seedValue)
        }
        let targetValues = try targets.map { try graph.resolve($0) }

        // Values downstream of a target: only their gradients can reach a target.
        var dependsOnTarget = Set(targetValues)
        for node in graph.nodes where node.inputs.contains(where: dependsOnTarget.contains) {
            dependsOnTarget.insert(node.output)
        }
        for node in graph.nodes.reversed() where dependsOnTarget.contains(node.output) {
            guard let gradOutput = gradients[node.output] else { continue }
            for (index, contribution) in try inputGradients(of: node, gradOutput: gradOutput, needed: dependsOnTarget) {
                try add(contribution, to: node.inputs[index])
            }
        }

        var result: [String: B.Tensor] = [:]
        for (name, value) in zip(targets, targetValues) {
            result[name] = try gradients[value] ?? zeroBuffer("zero-gradient:\(value)", try shape(value))
        }
        return result
    }

    private func zeroBuffer(_ role: String, _ shape: TensorShape) throws -> B.Tensor {
        let tensor = try buffer(role, shape)
        try backend.write(HostTensor(zeros: shape), into: tensor)
        return tensor
    }

    /// ∂L/∂input for each of `node`'s inputs in `needed`, as (input position, gradient).
    private func inputGradients(of node: Node, gradOutput dy: B.Tensor, needed: Set<String>) throws
        -> [(Int, B.Tensor)]
    {
        let wanted = node.inputs.indices.filter { needed.contains(node.inputs[$0]) }
        guard !wanted.isEmpty else { return [] }
        // The first input, for the nodes whose derivative reads it. An activation folded into the convolution before
        // it never had its input stored: its derivative is taken at its output (`ConvEpilogue.derivativeFollowsOutput`).
        func x() throws -> B.Tensor { try operand(lastPassFolding.activationInputs[node.inputs[0]] ?? node.inputs[0]) }
        func gradient(_ index: Int = 0) throws -> B.Tensor {
            try buffer("gradient:\(node.name):\(index)", try shape(node.inputs[index]))
        }
        switch node.operation {
        case .conv(let parameters):
            let dx = try gradient()
            try backend.conv2dBackwardInput(
                gradOutput: dy, weight: try operand(node.inputs[1]), gradInput: dx, parameters: parameters)
            return [(0, dx)]
        case .convTranspose(let parameters, _):
            // The transpose of a convolution's input gradient is the convolution itself.
            let dx = try gradient()
            try backend.conv2dForward(input: dy, weight: try operand(node.inputs[1]), bias: nil, output: dx,
                                      parameters: parameters)
            return [(0, dx)]
        case .channelAffine:
            let dx = try gradient()
            try backend.channelAffineBackward(gradOutput: dy, scale: try operand(node.inputs[1]), gradInput: dx)
            return [(0, dx)]
        case .activation(.relu) where reluGradient != .standard:
            let dx = try gradient()
            try backend.reluBackward(reluGradient, input: try x(), gradOutput: dy, gradInput: dx)
            return [(0, dx)]
        case .activation(.clip(let low, let high)) where reluGradient != .standard && modifiedRulesRectifyClips && low == 0:
            let dx = try gradient()
            if reluGradient == .guided {
                // relu(dy · [0 < x < max]) = relu(dy) · [0 < x < max]: the clip's own mask, then the sign rule.
                try backend.activationBackward(.clip(min: low, max: high), input: try x(), gradOutput: dy, gradInput: dx)
                try backend.reluBackward(.deconvnet, input: try x(), gradOutput: dx, gradInput: dx)
            } else {
                try backend.reluBackward(.deconvnet, input: try x(), gradOutput: dy, gradInput: dx)
            }
            return [(0, dx)]
        case .activation(let activation):
            let dx = try gradient()
            try backend.activationBackward(activation, input: try x(), gradOutput: dy, gradInput: dx)
            return [(0, dx)]
        case .maxPool(let parameters):
            let dx = try gradient()
            let argmax = try indexBuffer("argmax:\(node.name)", dy.shape)
            try backend.maxPool2dBackward(gradOutput: dy, argmax: argmax, gradInput: dx, parameters: parameters)
            return [(0, dx)]
        case .averagePool(let parameters):
            let dx = try gradient()
            try backend.avgPool2dBackward(gradOutput: dy, gradInput: dx, parameters: parameters)
            return [(0, dx)]
        case .reduce(let op, let axes, _):
            let dx = try gradient()
            try backend.reduceBackward(op, input: try x(), output: try operand(node.output), gradOutput: dy, gradInput: dx,
                                       axes: axes)
            return [(0, dx)]
        case .globalAveragePool:
            let dx = try gradient()
            try backend.globalAvgPool2dBackward(gradOutput: dy, gradInput: dx)
            return [(0, dx)]
        case .linear:
            let dx = try gradient()
            try backend.linearBackwardInput(gradOutput: dy, weight: try operand(node.inputs[1]), gradInput: dx)
            return [(0, dx)]
        case .binary(let op):
            return try binaryGradients(op, node: node, gradOutput: dy, wanted: wanted)
        case .matmul:
            let a = try operand(node.inputs[0]), b = try operand(node.inputs[1])
            let grads = try [a, b].indices.map { index in
                wanted.contains(index) ? try buffer("gradient:\(node.name):\(index)", [a, b][index].shape) : nil
            }
            try backend.matmulBackward(a: a, b: b, gradOutput: dy, gradA: grads[0], gradB: grads[1])
            return wanted.compactMap { index in grads[index].map { (index, $0) } }
        case .concat(let axis):
            let grads = try node.inputs.indices.map { try gradient($0) }
            try backend.concatBackward(gradOutput: try concatView(dy, axis: axis),
                                       gradInputs: try grads.map { try concatView($0, axis: axis) })
            return wanted.map { ($0, grads[$0]) }
        case .reshape, .flatten, .identity, .squeeze, .unsqueeze:
            return [(0, try backend.reshaped(dy, to: try shape(node.inputs[0])))]
        case .softmax(let axis):
            let dx = try gradient()
            try backend.softmaxBackward(output: try operand(node.output), gradOutput: dy, gradInput: dx, axis: axis)
            return [(0, dx)]
        case .standardize(let axis, let epsilon):
            let dx = try gradient()
            try backend.standardizeBackward(input: try operand(node.inputs[0]), gradOutput: dy, gradInput: dx,
                                            axis: axis < 0 ? axis + dy.shape.rank : axis, epsilon: .variance(epsilon))
            return [(0, dx)]
        case .resize(let mode, _, _):
            let dx = try gradient()
            try backend.resizeBackward(gradOutput: dy, gradInput: dx, mode: mode)
            return [(0, dx)]
        case .pad(let padding, _):
            let dx = try gradient()
            try backend.pad2dBackward(gradOutput: dy, gradInput: dx, padding: padding)
            return [(0, dx)]
        case .slice(let ranges):
            let dx = try gradient()
            try backend.sliceBackward(gradOutput: dy, gradInput: dx, ranges: try Node.resolve(ranges, dx.shape))
            return [(0, dx)]
        case .permute(let permutation):
            let dx = try gradient()
            try backend.permuteBackward(gradOutput: dy, gradInput: dx, permutation: permutation)
            return [(0, dx)]
        }
    }

    /// Add passes an unbroadcast operand's gradient through unchanged; everything else runs the backward kernel.
    private func binaryGradients(_ op: BinaryOp, node: Node, gradOutput dy: B.Tensor, wanted: [Int]) throws
        -> [(Int, B.Tensor)]
    {
        // By shape: a sum folded into a convolution's store never kept its convolution operand.
        if op == .add, try wanted.allSatisfy({ try shape(node.inputs[$0]) == dy.shape }) {
            return wanted.map { ($0, dy) }
        }
        let a = try operand(node.inputs[0]), b = try operand(node.inputs[1])
        let grads = try [a, b].indices.map { index in
            wanted.contains(index) ? try buffer("gradient:\(node.name):\(index)", [a, b][index].shape) : nil
        }
        try backend.binaryBackward(op, a: a, b: b, gradOutput: dy, gradA: grads[0], gradB: grads[1])
        return wanted.compactMap { index in grads[index].map { (index, $0) } }
    }
}
