import TensorOps

extension ReferenceBackend {
    public func camChannelWeights(_ rule: CAMRule, activation: Tensor, gradient: Tensor, weights: Tensor) throws {
        guard rule.weighsChannels else { throw ShapeError(op: "cam", message: "\(rule.rawValue) has no channel weights") }
        let g = try checkCAM(activation: activation.shape, gradient: gradient.shape, weights: weights.shape, map: nil)
        weights.store(ReferenceMath.camChannelWeights(rule, activation: activation.doubles, gradient: gradient.doubles, g))
    }

    public func camWeightedSum(activation: Tensor, weights: Tensor, output: Tensor) throws {
        let g = try checkCAM(activation: activation.shape, gradient: nil, weights: weights.shape, map: output.shape)
        output.store(ReferenceMath.camWeightedSum(activation: activation.doubles, weights: weights.doubles, g))
    }

    public func camPrincipalProjection(activation: Tensor, output: Tensor) throws {
        let g = try checkCAM(activation: activation.shape, gradient: nil, weights: nil, map: output.shape)
        output.store(ReferenceMath.camPrincipalProjection(activation: activation.doubles, g))
    }

    public func camPixelwiseSum(_ rule: CAMRule, activation: Tensor, gradient: Tensor, output: Tensor) throws {
        guard !rule.weighsChannels else { throw ShapeError(op: "cam", message: "\(rule.rawValue) weighs channels") }
        let g = try checkCAM(activation: activation.shape, gradient: gradient.shape, weights: nil, map: output.shape)
        output.store(ReferenceMath.camPixelwiseSum(rule, activation: activation.doubles, gradient: gradient.doubles, g))
    }

    public func minMaxNormalize(input: Tensor, output: Tensor, epsilon: Float) throws {
        try checkSameShapes([input.shape, output.shape], roles: ["input", "output"], of: "min_max_normalize")
        output.store(ReferenceMath.minMaxNormalize(input.doubles, perImage: input.shape.count / input.shape[0],
                                                   epsilon: Double(epsilon)))
    }

    public func resizeBilinear(input: Tensor, output: Tensor, alignCorners: Bool) throws {
        let g = try ResizeGeometry(input: input.shape, output: output.shape)
        output.store(ReferenceMath.resizeBilinear(input.doubles, g, alignCorners: alignCorners))
    }

    public func overlay(map: Tensor, lut: Tensor, image: Tensor, alpha: Float, output: Tensor) throws {
        let g = try OverlayGeometry(map: map.shape, lut: lut.shape, image: image.shape, output: output.shape)
        output.store(ReferenceMath.overlay(map: map.doubles, lut: lut.doubles, image: image.doubles, alpha: Double(alpha), g))
    }
}
