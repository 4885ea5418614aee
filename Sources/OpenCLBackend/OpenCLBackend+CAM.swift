import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func camChannelWeights(_ rule: CAMRule, activation: Tensor, gradient: Tensor, weights: Tensor) throws {
        guard rule.weighsChannels else { throw ShapeError(op: "cam", message: "\(rule.rawValue) has no channel weights") }
        let g = try checkCAM(activation: activation.shape, gradient: gradient.shape, weights: weights.shape, map: nil)
        try launch(try kernel("cam_channel_weights", in: "cam.cl"), global: [g.channels, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(gradient.buffer), .buffer(weights.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions), .int(Self.code(of: rule)),
                               .float(rule.epsilon)])
    }

    public func camWeightedSum(activation: Tensor, weights: Tensor, output: Tensor) throws {
        let g = try checkCAM(activation: activation.shape, gradient: nil, weights: weights.shape, map: output.shape)
        try launch(try kernel("cam_weighted_sum", in: "cam.cl"), global: [g.positions, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(weights.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions)])
    }

    public func camPrincipalProjection(activation: Tensor, output: Tensor) throws {
        let g = try checkCAM(activation: activation.shape, gradient: nil, weights: nil, map: output.shape)
        let side = min(g.positions, g.channels)
        let sizes: [KernelArgument] = [.int(g.images), .int(g.channels), .int(g.positions)]
        let means = try makeTensor([g.images, g.channels])
        let gram = try makeTensor([g.images, side, side])
        let vectors = try makeTensor([g.images, 2 * side])
        try launch(try kernel("cam_channel_means", in: "cam.cl"), global: [g.channels, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(means.buffer)] + sizes)
        try launch(try kernel("cam_principal_gram", in: "cam.cl"), global: [side, side, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(means.buffer), .buffer(gram.buffer)] + sizes)
        // One work-group of 64 per image (the kernel's EIGEN_GROUP): the power iteration synchronizes inside it.
        try context.launch(
            try kernel("cam_principal_projection", in: "cam.cl"), global: [64, g.images], local: [64, 1],
            arguments: [.buffer(activation.buffer), .buffer(means.buffer), .buffer(gram.buffer), .buffer(vectors.buffer),
                        .buffer(output.buffer), .int(g.channels), .int(g.positions)],
            annotation: LaunchAnnotation(flops: g.principalProjectionCost.flops, bytes: g.principalProjectionCost.bytes,
                                         detail: "activation \(activation.shape)"))
    }

    public func camPixelwiseSum(_ rule: CAMRule, activation: Tensor, gradient: Tensor, output: Tensor) throws {
        guard !rule.weighsChannels else { throw ShapeError(op: "cam", message: "\(rule.rawValue) weighs channels") }
        let g = try checkCAM(activation: activation.shape, gradient: gradient.shape, weights: nil, map: output.shape)
        try launch(try kernel("cam_pixelwise_sum", in: "cam.cl"), global: [g.positions, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(gradient.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions), .int(Self.code(of: rule))])
    }

    public func minMaxNormalize(input: Tensor, output: Tensor, epsilon: Float) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: "min_max_normalize")
        let images = input.shape[0]
        try launch(try kernel("min_max_normalize", in: "cam.cl"), global: [images],
                   arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(images),
                               .int(input.shape.count / images), .float(epsilon)])
    }

    public func resizeBilinear(input: Tensor, output: Tensor, alignCorners: Bool) throws {
        let g = try ResizeGeometry(input: input.shape, output: output.shape)
        let (oh, ow) = (g.output[2], g.output[3])
        try launch(try kernel("resize_bilinear", in: "cam.cl"), global: [ow, oh, g.planes],
                   arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(g.planes), .int(g.input[2]),
                               .int(g.input[3]), .int(oh), .int(ow), .int(alignCorners ? 1 : 0)])
    }

    public func overlay(map: Tensor, lut: Tensor, image: Tensor, alpha: Float, output: Tensor) throws {
        let g = try OverlayGeometry(map: map.shape, lut: lut.shape, image: image.shape, output: output.shape)
        try launch(try kernel("overlay", in: "cam.cl"), global: [g.positions, g.images],
                   arguments: [.buffer(map.buffer), .buffer(lut.buffer), .buffer(image.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.positions), .float(alpha)])
    }

    /// The rule's code in cam.cl.
    private static func code(of rule: CAMRule) -> Int {
        switch rule {
        case .gradCAM: 0
        case .gradCAMPlusPlus: 1
        case .xGradCAM: 2
        case .hiResCAM: 3
        case .layerCAM: 4
        }
    }
}
