import Foundation
import TensorOps

extension ReferenceBackend {
    public func irfft2Forward(spectrum: Tensor, scratch: Tensor, output: Tensor) throws {
        let g = try SpectrumGeometry(spectrum: spectrum.shape, image: output.shape)
        try scratch.shape.require(g.scratch, "scratch", of: "irfft2")
        output.store(ReferenceMath.irfft2Forward(spectrum: spectrum.doubles, g))
    }

    public func irfft2Backward(gradOutput: Tensor, scratch: Tensor, gradSpectrum: Tensor) throws {
        let g = try SpectrumGeometry(spectrum: gradSpectrum.shape, image: gradOutput.shape)
        try scratch.shape.require(g.scratch, "scratch", of: "irfft2")
        gradSpectrum.store(ReferenceMath.irfft2Backward(gradOutput: gradOutput.doubles, g))
    }

    public func affineResampleForward(input: Tensor, maps: Tensor, output: Tensor, fill: Float) throws {
        let g = try checkAffineResample(input: input.shape, maps: maps.shape, output: output.shape)
        output.store(ReferenceMath.affineResampleForward(input: input.doubles, maps: affineMaps(maps), fill: Double(fill), g))
    }

    public func affineResampleBackward(gradOutput: Tensor, maps: Tensor, gradInput: Tensor, reach: Int) throws {
        let g = try checkAffineResample(input: gradInput.shape, maps: maps.shape, output: gradOutput.shape)
        gradInput.store(ReferenceMath.affineResampleBackward(gradOutput: gradOutput.doubles, maps: affineMaps(maps), g))
    }

    private func affineMaps(_ maps: Tensor) -> [AffineMap] {
        let values = maps.values
        return stride(from: 0, to: values.count, by: 6).map { i in
            AffineMap(a: values[i], b: values[i + 1], tx: values[i + 2], c: values[i + 3], d: values[i + 4], ty: values[i + 5])
        }
    }

    public func imagePenaltyBackward(image: Tensor, gradient: Tensor, output: Tensor, l2: Float, tv: Float) throws {
        try image.shape.requireNCHW("image", of: "image_penalty")
        try checkSameShapes([image.shape, gradient.shape, output.shape], roles: ["image", "gradient", "output"],
                            of: "image_penalty")
        output.store(ReferenceMath.imagePenaltyBackward(
            image: image.doubles, gradient: gradient.doubles, l2: Double(l2), tv: Double(tv), shape: image.shape))
    }

    public func adamStep(parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, step: Int,
                         _ h: AdamParameters) throws {
        try checkSameShapes([parameter.shape, gradient.shape, firstMoment.shape, secondMoment.shape],
                            roles: ["parameter", "gradient", "first moment", "second moment"], of: "adam")
        let (beta1, beta2) = (Double(h.beta1), Double(h.beta2))
        let correction1 = 1 - pow(beta1, Double(step)), correction2 = 1 - pow(beta2, Double(step))
        var (p, m, v) = (parameter.doubles, firstMoment.doubles, secondMoment.doubles)
        for (i, g) in gradient.doubles.enumerated() {
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            p[i] += Double(h.learningRate) * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + Double(h.epsilon))
        }
        parameter.store(p)
        firstMoment.store(m)
        secondMoment.store(v)
    }

    public func sgdStep(parameter: Tensor, gradient: Tensor, learningRate: Float) throws {
        try checkSameShapes([parameter.shape, gradient.shape], roles: ["parameter", "gradient"], of: "sgd")
        parameter.store(zip(parameter.doubles, gradient.doubles).map { $0 + Double(learningRate) * $1 })
    }
}

extension ReferenceBackend {
    public func diversityBackward(activation: Tensor, gradient: Tensor, output: Tensor, weight: Float, scratch: Tensor)
        throws
    {
        let g = try checkDiversity(
            activation: activation.shape, gradient: gradient.shape, output: output.shape, scratch: scratch.shape)
        let dD = ReferenceMath.diversityGradient(activation: activation.doubles, g)
        output.store(zip(gradient.doubles, dD).map { $0 - Double(weight) * $1 })
    }
}
