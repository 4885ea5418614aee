import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func camChannelWeights(_ rule: CAMRule, activation: Tensor, gradient: Tensor, weights: Tensor) throws {
        guard rule.weighsChannels else { throw ShapeError(op: "cam", message: "\(rule.rawValue) has no channel weights") }
        let g = try checkCAM(activation: activation.shape, gradient: gradient.shape, weights: weights.shape, map: nil)
        try launch(try kernel("cam_channel_weights", in: "cam.cl", defineList: Self.ruleDefines(rule)),
                   global: [g.channels, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(gradient.buffer), .buffer(weights.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions), .float(rule.epsilon)],
                   cost: g.channelWeightsCost(rule), detail: "\(rule.rawValue) \(activation.shape)")
    }

    public func camWeightedSum(activation: Tensor, weights: Tensor, output: Tensor) throws {
        let g = try checkCAM(activation: activation.shape, gradient: nil, weights: weights.shape, map: output.shape)
        try launch(try kernel("cam_weighted_sum", in: "cam.cl"), global: [g.positions, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(weights.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions)],
                   cost: g.weightedSumCost, detail: "\(activation.shape)")
    }

    public func camPrincipalProjection(activation: Tensor, output: Tensor) throws {
        let g = try checkCAM(activation: activation.shape, gradient: nil, weights: nil, map: output.shape)
        let side = min(g.positions, g.channels)
        let sizes: [KernelArgument] = [.int(g.images), .int(g.channels), .int(g.positions)]
        let means = try makeTensor([g.images, g.channels])
        let gram = try makeTensor([g.images, side, side])
        let vectors = try makeTensor([g.images, 2 * side])
        // principalProjectionCost's FLOPs split between the Gram kernel and the projection (the power iterations
        // are not counted); the channel means are a bytes-only helper (their sums are not in that count).
        let detail = "activation \(activation.shape)"
        let stages = g.principalProjectionStageCosts
        try launch(try kernel("cam_channel_means", in: "cam.cl"), global: [g.channels, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(means.buffer)] + sizes,
                   cost: OpCost(flops: 0, bytes: OpCost.traffic(g.activation.count, g.weightShape.count)),
                   detail: detail)
        try launch(try kernel("cam_principal_gram", in: "cam.cl"), global: [side, side, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(means.buffer), .buffer(gram.buffer)] + sizes,
                   cost: stages.gram, detail: "\(side)×\(side) Gram, \(detail)")
        // One work-group of 64 per image (the kernel's EIGEN_GROUP): the power iteration synchronizes inside it.
        try context.launch(
            try kernel("cam_principal_projection", in: "cam.cl"), global: [64, g.images], local: [64, 1],
            arguments: [.buffer(activation.buffer), .buffer(means.buffer), .buffer(gram.buffer), .buffer(vectors.buffer),
                        .buffer(output.buffer), .int(g.channels), .int(g.positions)],
            annotation: LaunchAnnotation(
                flops: stages.projection.flops, bytes: stages.projection.bytes, detail: detail))
    }

    public func camPixelwiseSum(_ rule: CAMRule, activation: Tensor, gradient: Tensor, output: Tensor) throws {
        guard !rule.weighsChannels else { throw ShapeError(op: "cam", message: "\(rule.rawValue) weighs channels") }
        let g = try checkCAM(activation: activation.shape, gradient: gradient.shape, weights: nil, map: output.shape)
        try launch(try kernel("cam_pixelwise_sum", in: "cam.cl", defineList: Self.ruleDefines(rule)),
                   global: [g.positions, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(gradient.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions)],
                   cost: g.pixelwiseSumCost, detail: "\(rule.rawValue) \(activation.shape)")
    }

    public func minMaxNormalize(input: Tensor, output: Tensor, epsilon: Float) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: "min_max_normalize")
        let images = input.shape[0]
        try launch(try kernel("min_max_normalize", in: "cam.cl"), global: [images],
                   arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(images),
                               .int(input.shape.count / images), .float(epsilon)],
                   cost: OpCost.minMaxNormalize(count: input.shape.count), detail: "\(input.shape)")
    }

    public func resizeBilinear(input: Tensor, output: Tensor, alignCorners: Bool) throws {
        let g = try ResizeGeometry(input: input.shape, output: output.shape)
        let (oh, ow) = (g.output[2], g.output[3])
        try launch(try kernel("resize_bilinear", in: "cam.cl"), global: [ow, oh, g.planes],
                   arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(g.planes), .int(g.input[2]),
                               .int(g.input[3]), .int(oh), .int(ow), .int(alignCorners ? 1 : 0)],
                   cost: g.cost, detail: "\(g.input) → \(g.output)")
    }

    public func overlay(map: Tensor, lut: Tensor, image: Tensor, alpha: Float, output: Tensor) throws {
        let g = try OverlayGeometry(map: map.shape, lut: lut.shape, image: image.shape, output: output.shape)
        try launch(try kernel("overlay", in: "cam.cl"), global: [g.positions, g.images],
                   arguments: [.buffer(map.buffer), .buffer(lut.buffer), .buffer(image.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.positions), .float(alpha)],
                   cost: g.cost, detail: "\(map.shape)")
    }

    /// cam.cl's rule defines, derived from `CAMRule`, the one list of rules: `RULE_<NAME>` (the raw value in capitals,
    /// `++` spelled `_PLUS_PLUS`) is every rule's position in `CAMRule.allCases`, and `RULE` is `rule`'s.
    static func ruleDefines(_ rule: CAMRule) -> [(String, Int)] {
        let codes = CAMRule.allCases.enumerated().map { code, each in
            ("RULE_" + each.rawValue.uppercased().replacingOccurrences(of: "++", with: "_PLUS_PLUS"), code)
        }
        return codes + [("RULE", CAMRule.allCases.firstIndex(of: rule) ?? -1)]
    }
}

extension CAMGeometry {
    /// `principalProjectionCost` by kernel: the Gram matrix's multiply-adds (reading the activation, writing
    /// the N·S² Gram), and the rest, the power iteration and projection (reading the Gram and the activation,
    /// writing the map). The FLOPs add up to the op's.
    fileprivate var principalProjectionStageCosts: (gram: OpCost, projection: OpCost) {
        let side = min(positions, channels)
        let gramFlops = 2 * side * side * max(positions, channels) * images
        return (OpCost(flops: gramFlops, bytes: OpCost.traffic(activation.count, images * side * side)),
                OpCost(flops: principalProjectionCost.flops - gramFlops,
                       bytes: OpCost.traffic(images * side * side, activation.count, mapShape.count)))
    }
}
