import TensorOps

extension ReferenceBackend {
    public func camChannelWeights(
        _ checked: Checked<CAMGeometry>, _ rule: CAMRule, activation: Tensor, gradient: Tensor, weights: Tensor
    ) throws {
        let g = checked.geometry
        weights.store(ReferenceMath.camChannelWeights(rule, activation: activation.doubles, gradient: gradient.doubles, g))
    }

    public func camWeightedSum(
        _ checked: Checked<CAMGeometry>, activation: Tensor, weights: Tensor, output: Tensor
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.camWeightedSum(activation: activation.doubles, weights: weights.doubles, g))
    }

    public func camPrincipalProjection(_ checked: Checked<CAMGeometry>, activation: Tensor, output: Tensor) throws {
        let g = checked.geometry
        output.store(ReferenceMath.camPrincipalProjection(activation: activation.doubles, g))
    }

    public func camPixelwiseSum(
        _ checked: Checked<CAMGeometry>, _ rule: CAMRule, activation: Tensor, gradient: Tensor, output: Tensor
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.camPixelwiseSum(rule, activation: activation.doubles, gradient: gradient.doubles, g))
    }

    public func minMaxNormalize(_ checked: Checked<TensorShape>, input: Tensor, output: Tensor, epsilon: Float) throws {
        output.store(ReferenceMath.minMaxNormalize(input.doubles, perImage: input.shape.count / input.shape[0],
                                                   epsilon: Double(epsilon)))
    }

    public func overlay(
        _ checked: Checked<OverlayGeometry>, map: Tensor, lut: Tensor, image: Tensor, alpha: Float, output: Tensor
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.overlay(map: map.doubles, lut: lut.doubles, image: image.doubles, alpha: Double(alpha), g))
    }
}
