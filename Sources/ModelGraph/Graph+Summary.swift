import TensorOps

/// One row of `convlens info`: what a node computes and what it costs.
public struct NodeSummary: Sendable {
    public let index: Int
    public let node: Node
    /// The output shape for the input shape the summary was made for.
    public let outputShape: TensorShape
    /// Weight and bias elements the node reads.
    public let parameters: Int
    /// Forward floating-point operations (a multiply-add counts 2), in millions.
    public let megaFLOPs: Double
    /// How many input pixels (height, width) one output position sees, and how far apart (in input pixels)
    /// neighbouring output positions are; nil once spatial structure is gone (after global pooling, flatten …).
    public let receptiveField: ReceptiveField?
}

/// The receptive field of a value: the window of input pixels behind one of its positions, and the step between
/// neighbouring positions' windows.
public struct ReceptiveField: Hashable, Sendable {
    public var size: Size2D
    public var stride: Size2D
    /// The input row and column where position (0, 0)'s window starts: negative when padding puts part of it
    /// outside the image.
    public var top = 0, left = 0

    public init(size: Size2D, stride: Size2D, top: Int = 0, left: Int = 0) {
        (self.size, self.stride, self.top, self.left) = (size, stride, top, left)
    }

    /// One input pixel: the input's own receptive field.
    public static let pixel = ReceptiveField(size: Size2D(1), stride: Size2D(1))

    /// The window of input pixels behind position (`y`, `x`): its first row and column (possibly negative or past
    /// the image, in padding) and its size.
    public func window(y: Int, x: Int) -> (top: Int, left: Int, size: Size2D) {
        (top + y * stride.height, left + x * stride.width, size)
    }

    /// After a window of `kernel` taps spaced `dilation` apart, moving by `step`, over `padding`.
    func through(kernel: Size2D, step: Size2D, dilation: Size2D, padding: Padding2D) -> ReceptiveField {
        ReceptiveField(
            size: Size2D(size.height + (kernel.height - 1) * dilation.height * stride.height,
                         size.width + (kernel.width - 1) * dilation.width * stride.width),
            stride: Size2D(stride.height * step.height, stride.width * step.width),
            top: top - padding.top * stride.height, left: left - padding.left * stride.width)
    }

    /// After zero padding: the first position now sits `padding` positions before the old first one.
    func padded(_ padding: Padding2D) -> ReceptiveField {
        ReceptiveField(size: size, stride: stride, top: top - padding.top * stride.height,
                       left: left - padding.left * stride.width)
    }
}

extension Graph {
    /// One summary per node for an input of `inputShape`.
    /// - Throws: `ModelError` when the shapes do not fit.
    public func summary(input inputShape: TensorShape) throws -> [NodeSummary] {
        let shapes = try inferShapes(input: inputShape)
        var fields: [String: ReceptiveField] = [input.name: .pixel]
        return try nodes.enumerated().map { index, node in
            let field = receptiveField(of: node, inputs: node.inputs.map { fields[$0] })
            fields[node.output] = field
            let inputShapes = node.inputs.compactMap { shapes[$0] }
            let outputShape = shapes[node.output] ?? inputShape
            return NodeSummary(
                index: index, node: node, outputShape: outputShape,
                parameters: node.inputs.dropFirst().compactMap { constants[$0]?.shape.count }.reduce(0, +),
                megaFLOPs: Double(try forwardCost(of: node, inputs: inputShapes, output: outputShape).flops) / 1e6,
                receptiveField: field)
        }
    }

    private func receptiveField(of node: Node, inputs: [ReceptiveField?]) -> ReceptiveField? {
        switch node.operation {
        case .conv(let p):
            let weight = constants[node.inputs[1]]?.shape ?? [1, 1, 1, 1]
            return inputs[0]?.through(kernel: Size2D(weight[2], weight[3]), step: p.stride, dilation: p.dilation,
                                      padding: p.padding)
        case .maxPool(let p), .averagePool(let p):
            return inputs[0]?.through(kernel: p.kernel, step: p.stride, dilation: p.dilation, padding: p.padding)
        case .pad(let padding, _):
            return inputs[0]?.padded(padding)
        case .globalAveragePool, .reduce, .linear, .matmul, .flatten, .reshape:
            return nil
        case .convTranspose, .resize:
            // Output positions step by a fraction of an input pixel: no whole-pixel field to report.
            return nil
        case .binary, .concat:
            // Merging branches: the widest field among the computed inputs.
            return inputs.compactMap { $0 }.max { $0.size.height * $0.size.width < $1.size.height * $1.size.width }
        case .channelAffine, .activation, .identity, .softmax, .standardize, .squeeze, .unsqueeze:
            return inputs[0]
        case .permute, .slice:
            // Positions move between axes (ConvNeXt's channels-last blocks) but each still sees the same pixels.
            return inputs[0]
        }
    }

    private func forwardCost(of node: Node, inputs: [TensorShape], output: TensorShape) throws -> OpCost {
        let hasBias = node.inputs.count > 2
        switch node.operation {
        case .conv(let p):
            return try Conv2DGeometry(input: inputs[0], weight: inputs[1], parameters: p).forwardCost(hasBias: hasBias)
        case .convTranspose(let p, let outputPadding):
            return try Node.transposedConvolution(input: inputs[0], weight: inputs[1], p, outputPadding).forwardCost(
                hasBias: false)
        case .maxPool(let p):
            return try Pool2DGeometry(.max, input: inputs[0], parameters: p).forwardCost
        case .averagePool(let p):
            return try Pool2DGeometry(.average, input: inputs[0], parameters: p).forwardCost
        case .globalAveragePool:
            return OpCost.globalAvgPool2d(input: inputs[0], backward: false)
        case .reduce(_, let axes, let keep):
            return try ReduceGeometry(input: inputs[0], axes: axes, keepDimensions: keep).cost(backward: false)
        case .linear:
            return try LinearGeometry(input: inputs[0], weight: inputs[1]).forwardCost(hasBias: hasBias)
        case .binary(let op):
            return OpCost.binary(try BroadcastGeometry(a: inputs[0], b: inputs[1], op: op), backward: false)
        case .matmul:
            return try MatMulGeometry(a: inputs[0], b: inputs[1]).cost
        case .channelAffine:
            return OpCost.channelAffine(output)
        case .activation:
            return OpCost.activation(count: output.count, backward: false)
        case .softmax:
            return OpCost.softmax(output, backward: false)
        case .standardize(let axis, _):
            let geometry = try StandardizeGeometry([output], roles: ["input"], axis: axis < 0 ? axis + output.rank : axis)
            return OpCost.standardize(geometry, backward: false)
        case .resize(let mode, _, _):
            return try ResizeGeometry(input: inputs[0], output: output, mode: mode).cost
        case .concat, .pad, .permute, .slice:
            return OpCost.copy(input: output.count, output: output.count)
        case .reshape, .flatten, .identity, .squeeze, .unsqueeze:
            return OpCost(flops: 0, bytes: 0)
        }
    }
}
