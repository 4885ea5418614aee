import TensorOps

extension GraphBuilder {
    /// GELU as exporters without a Gelu op write it, x · (1 + erf(x / √2)) · 0.5: the chain Div(x, √2) (or
    /// Mul(x, 1/√2)) → Erf → Add 1 → Mul x → Mul 0.5, each value read only by the next. Lowered as one exact GELU
    /// node, named after the last Mul and writing its output, so that a ConvNeXt or ViT block runs one kernel each
    /// way instead of five, and keeps one activation instead of five for its gradient. The chain's inner values
    /// are not kept (`absorbedNodes` skips the four nodes after the first).
    /// - Returns: whether `proto` starts such a chain and was lowered with it.
    mutating func foldGELU(_ proto: Onnx_NodeProto, index: Int) throws -> Bool {
        guard let (x, scaled) = scaledByInverseRootTwo(proto) else { return false }
        let nodes = source.nodes
        guard let erf = soleReader(of: scaled), nodes[erf].opType == "Erf",
              let plusOne = soleReader(of: nodes[erf].output[0]), nodes[plusOne].opType == "Add",
              isPair(nodes[plusOne].input, nodes[erf].output[0], constant: 1),
              let timesX = soleReader(of: nodes[plusOne].output[0]), nodes[timesX].opType == "Mul",
              Set(nodes[timesX].input) == [x, nodes[plusOne].output[0]], nodes[timesX].input.count == 2,
              let half = soleReader(of: nodes[timesX].output[0]), nodes[half].opType == "Mul",
              isPair(nodes[half].input, nodes[timesX].output[0], constant: 0.5)
        else { return false }
        let last = nodes[half]
        absorbedNodes.formUnion([erf, plusOne, timesX, half])
        try append(Node(name: last.name.isEmpty ? "Mul_\(half)" : last.name, opType: "Div·Erf·Add·Mul·Mul",
                        operation: .activation(.gelu(tanh: false)), inputs: [x], output: last.output[0]))
        return true
    }

    /// (x, y) when `proto` is y = x / √2 or x · (1/√2) with a computed x and a one-value constant.
    private func scaledByInverseRootTwo(_ proto: Onnx_NodeProto) -> (x: String, scaled: String)? {
        let inputs = proto.input
        guard inputs.count == 2, let output = proto.output.first, !output.isEmpty else { return nil }
        switch proto.opType {
        case "Div" where constants[inputs[0]] == nil && isConstant(inputs[1], 2.0.squareRoot()):
            return (inputs[0], output)
        case "Mul":
            for (x, factor) in [(inputs[0], inputs[1]), (inputs[1], inputs[0])]
            where constants[x] == nil && isConstant(factor, 0.5.squareRoot()) {
                return (x, output)
            }
            return nil
        default:
            return nil
        }
    }

    /// The one node that reads `value`, when nothing else (no other node, no graph output) does.
    private func soleReader(of value: String) -> Int? {
        guard consumers[value] == 1, let readers = source.readers[value], readers.count == 1 else { return nil }
        return readers[0]
    }

    /// Whether `inputs` are `value` and a one-value constant equal to `constant`, in either order.
    private func isPair(_ inputs: [String], _ value: String, constant: Double) -> Bool {
        inputs.count == 2 && inputs.contains(value)
            && isConstant(inputs[0] == value ? inputs[1] : inputs[0], constant)
    }

    /// Whether `name` is a one-value constant within float rounding of `value`: an initializer or a value
    /// lowered already, or a Constant node (exporters put one just before the node that reads it, so it may come
    /// after the chain's first node).
    private func isConstant(_ name: String, _ value: Double) -> Bool {
        let tensor: HostTensor? = switch source.constantNodeValues[name] {
        case .float(let tensor): tensor
        default: constants[name]
        }
        guard let tensor, tensor.values.count == 1 else { return false }
        return abs(Double(tensor.values[0]) - value) <= 1e-6 * abs(value)
    }
}
