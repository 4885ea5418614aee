import OpenCLRuntime
import TensorOps

extension OpenCLBackend {
    public func camChannelWeights(
        _ checked: Checked<CAMGeometry>, _ rule: CAMRule, activation: Tensor, gradient: Tensor, weights: Tensor
    ) throws {
        let g = checked.geometry
        try launch(try kernel("cam_channel_weights", in: "cam.cl", defineList: Self.ruleDefines(rule)),
                   global: [g.channels, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(gradient.buffer), .buffer(weights.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions), .float(rule.epsilon)],
                   cost: g.channelWeightsCost(rule), detail: "\(rule.rawValue) \(activation.shape)")
    }

    public func camWeightedSum(
        _ checked: Checked<CAMGeometry>, activation: Tensor, weights: Tensor, output: Tensor
    ) throws {
        let g = checked.geometry
        try launch(try kernel("cam_weighted_sum", in: "cam.cl"), global: [g.positions, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(weights.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions)],
                   cost: g.weightedSumCost, detail: "\(activation.shape)")
    }

    public func camPrincipalProjection(_ checked: Checked<CAMGeometry>, activation: Tensor, output: Tensor) throws {
        let g = checked.geometry
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

    public func camPixelwiseSum(
        _ checked: Checked<CAMGeometry>, _ rule: CAMRule, activation: Tensor, gradient: Tensor, output: Tensor
    ) throws {
        let g = checked.geometry
        try launch(try kernel("cam_pixelwise_sum", in: "cam.cl", defineList: Self.ruleDefines(rule)),
                   global: [g.positions, g.images],
                   arguments: [.buffer(activation.buffer), .buffer(gradient.buffer), .buffer(output.buffer),
                               .int(g.images), .int(g.channels), .int(g.positions)],
                   cost: g.pixelwiseSumCost, detail: "\(rule.rawValue) \(activation.shape)")
    }

    public func minMaxNormalize(_ checked: Checked<TensorShape>, input: Tensor, output: Tensor, epsilon: Float) throws {
        let images = input.shape[0]
        try launch(try kernel("min_max_normalize", in: "cam.cl"), global: [images],
                   arguments: [.buffer(input.buffer), .buffer(output.buffer), .int(images),
                               .int(input.shape.count / images), .float(epsilon)],
                   cost: OpCost.minMaxNormalize(count: input.shape.count), detail: "\(input.shape)")
    }

    public func overlay(
        _ checked: Checked<OverlayGeometry>, map: Tensor, lut: Tensor, image: Tensor, alpha: Float, output: Tensor
    ) throws {
        let g = checked.geometry
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
