import ModelGraph
import TensorOps

/// The layers FullGrad reads: every convolution with a constant bias (a BatchNormalization after it is folded in,
/// so its output and bias are the normalization's) and every BatchNormalization left standing (its shift), with
/// N×K×h×w outputs, in node order — pytorch-grad-cam's Conv2d and BatchNorm2d modules with a bias.
struct FullGradLayers {
    /// Output value and bias per layer.
    let layers: [(value: String, bias: HostTensor)]

    init(graph: Graph, inputShape: TensorShape) throws {
        let shapes = try graph.inferShapes(input: inputShape, through: nil)
        layers = graph.nodes.compactMap { node in
            // A convolution's bias and a BatchNormalization's shift are both the node's third input.
            switch node.operation {
            case .conv, .channelAffine: break
            default: return nil
            }
            guard node.inputs.count > 2, let bias = graph.constants[node.inputs[2]],
                  let shape = shapes[node.output], shape.rank == 4, bias.shape.count == shape[1]
            else { return nil }
            return (node.output, HostTensor(shape: [1, shape[1], 1, 1], values: bias.values))
        }
        if layers.isEmpty {
            throw VisualizationError.badSetting("--method fullgrad needs convolutions or batch normalizations with a bias; the model has none")
        }
    }
}

extension ClassActivationMapper {
    /// FullGrad's map N×1×H×W before its last scaling, as pytorch-grad-cam computes it after the forward pass of
    /// `input`: Σ_c scale(|x·∂s/∂x|)_c + Σ_layers Σ_k scale(|bias_k·∂s/∂y_k|), where scale min-max scales each channel
    /// plane (ε 1e−7) and resizes it to the input (bilinear, half-pixel centres). A layer's planes are summed at its
    /// own size and resized once: resizing is linear, so that is the same sum. One backward pass gives every
    /// gradient; everything else stays on the backend.
    func fullGradMap(input: B.Tensor, classes: [Int], scores: HostTensor) throws -> B.Tensor {
        let inputName = executor.graph.input.name
        let seed = targetSeed(scores: scores, classes: classes)
        let gradients = try executor.backward(from: executor.graph.outputs[0], seed: try backend.upload(seed),
                                              to: [inputName] + fullGradBiases.map(\.value))
        guard let inputGradient = gradients[inputName] else {
            throw VisualizationError.badSetting("the model's output does not depend on its input")
        }
        let total = try scaledPlaneSum(inputGradient, times: input)
        let size = total.shape
        for (value, bias) in fullGradBiases {
            guard let gradient = gradients[value] else { continue }  // a layer the score does not depend on
            let layerSum = try scaledPlaneSum(gradient, times: try backend.upload(bias))
            let resized = layerSum.shape == size ? layerSum : try backend.makeTensor(size)
            if layerSum.shape != size { try backend.resizeForward(input: layerSum, output: resized, mode: .bilinear(alignCorners: false)) }
            try backend.binaryForward(.add, total, resized, output: total)
        }
        return total
    }

    /// Σ_k of the planes of |gradient · factor| (N×K×h×w; factor broadcast), each min-max scaled (ε 1e−7): N×1×h×w.
    private func scaledPlaneSum(_ gradient: B.Tensor, times factor: B.Tensor) throws -> B.Tensor {
        let shape = gradient.shape
        let terms = try backend.makeTensor(shape)
        try backend.binaryForward(.mul, gradient, factor, output: terms)
        try backend.activationForward(.abs, input: terms, output: terms)
        let planes = try backend.reshaped(terms, to: [shape[0] * shape[1], 1, shape[2], shape[3]])
        try backend.minMaxNormalize(input: planes, output: planes, epsilon: Self.scaleEpsilon)
        let geometry = try CAMGeometry(activation: shape)
        let ones = try backend.upload(HostTensor(shape: geometry.weightShape, values: [Float](repeating: 1, count: shape[0] * shape[1])))
        let sum = try backend.makeTensor(geometry.mapShape)
        try backend.camWeightedSum(activation: terms, weights: ones, output: sum)
        return sum
    }
}
