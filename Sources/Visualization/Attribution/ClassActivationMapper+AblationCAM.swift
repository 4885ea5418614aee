import TensorOps

extension ClassActivationMapper {
    /// pytorch-grad-cam's `AblationCAM` batch size (its default): the values it ablates with below zero depend on a
    /// channel's place in that batch.
    static var ablationPeerBatch: Int { 32 }
    /// What pytorch-grad-cam's ablation layer subtracts from the activation's minimum when that minimum is not 0.
    static var ablationOffset: Float { 1e7 }

    /// Ablation-CAM's channel weights N×K (Desai & Ramaswamy, as pytorch-grad-cam computes them): for each channel k,
    /// (score − score with channel k ablated) / score. Ablating sets the channel's whole plane to 0 when the image's
    /// activation has minimum 0 (after a ReLU), else far below the minimum (`ablationValues`).
    ///
    /// The ablated copies of the activation are made on the backend (one product and one sum with per-copy masks)
    /// and only the layers after `layer` run on them (`GraphExecutor.forwardOutput(from:replacedBy:image:)`), `batch`
    /// copies at a time; pytorch-grad-cam runs the whole model on repeated images. Only the class scores come back.
    func ablationCAMWeights(layer: String, classes: [Int], scores: HostTensor) throws -> B.Tensor {
        let layout = layouts[layer] ?? .nchw
        let activation = try executor.value(layer)
        let shape = activation.shape
        // The channel axis: second for N×C×h×w, last for channels-last maps and tokens (pytorch-grad-cam's
        // AblationLayerVit, which ablates the class token's channel too).
        let channelAxis = layout == .nchw ? 1 : shape.rank - 1
        let channels = shape[channelAxis], perImage = shape.count / shape[0]
        let values = try backend.download(activation).values

        var weights: [Float] = []
        let single = try backend.makeTensor(TensorShape([1] + shape.dimensions.dropFirst()))
        for (image, target) in classes.enumerated() {
            let original = scores.values[image * scores.shape[1] + target]
            let minimum = values[image * perImage..<(image + 1) * perImage].min() ?? 0
            let ablation = Self.ablationValues(minimum: minimum, count: channels)
            try backend.copyElements(activation, from: image * perImage, into: single, at: 0, count: perImage)
            for start in stride(from: 0, to: channels, by: batch) {
                let count = min(batch, channels - start)
                // Per copy c: keep every channel but start + c (mask 1, fill 0), which becomes its ablation value.
                var maskShape = [Int](repeating: 1, count: shape.rank)
                (maskShape[0], maskShape[channelAxis]) = (count, channels)
                var keep = HostTensor(shape: TensorShape(maskShape), values: [Float](repeating: 1, count: count * channels))
                var fill = HostTensor(zeros: TensorShape(maskShape))
                for copy in 0..<count {
                    keep.values[copy * channels + start + copy] = 0
                    fill.values[copy * channels + start + copy] = ablation[start + copy]
                }
                var copiesShape = shape.dimensions
                copiesShape[0] = count
                let ablated = try backend.makeTensor(TensorShape(copiesShape))
                try backend.binaryForward(.mul, single, try backend.upload(keep), output: ablated)
                try backend.binaryForward(.add, ablated, try backend.upload(fill), output: ablated)
                let output = try backend.download(try executor.forwardOutput(from: layer, replacedBy: ablated, image: image))
                // In float32, as pytorch-grad-cam's NumPy arrays are.
                weights += (0..<count).map { (original - output.values[$0 * output.shape[1] + target]) / original }
            }
        }
        return try backend.upload(HostTensor(shape: [classes.count, channels], values: weights))
    }

    /// The value each of `count` channels is ablated to: 0 when the activation's minimum is 0; otherwise
    /// pytorch-grad-cam's ablation layer sets copy i of a batch to the batch's running minimum − 10⁷, which
    /// includes the copies before it, so copy i gets minimum − (i + 1)·10⁷ (in float32, step by step).
    static func ablationValues(minimum: Float, count: Int) -> [Float] {
        guard minimum != 0 else { return [Float](repeating: 0, count: count) }
        return (0..<count).map { channel in
            var value = minimum
            for _ in 0...(channel % ablationPeerBatch) { value -= ablationOffset }
            return value
        }
    }
}
