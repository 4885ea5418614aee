import Foundation
import TensorOps

extension ReferenceBackend {
    public func irfft2Forward(
        _ checked: Checked<SpectrumGeometry>, spectrum: Tensor, scratch: Tensor, output: Tensor
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.irfft2Forward(spectrum: spectrum.doubles, g))
    }

    public func irfft2Backward(
        _ checked: Checked<SpectrumGeometry>, gradOutput: Tensor, scratch: Tensor, gradSpectrum: Tensor
    ) throws {
        let g = checked.geometry
        gradSpectrum.store(ReferenceMath.irfft2Backward(gradOutput: gradOutput.doubles, g))
    }

    public func affineResampleForward(
        _ checked: Checked<AffineResampleGeometry>, input: Tensor, maps: Tensor, output: Tensor, fill: Float
    ) throws {
        let g = checked.geometry
        output.store(ReferenceMath.affineResampleForward(input: input.doubles, maps: AffineMap.maps(from: maps.values.map(Float.init)), fill: Double(fill), g))
    }

    public func affineResampleBackward(
        _ checked: Checked<AffineResampleGeometry>, gradOutput: Tensor, maps: Tensor, gradInput: Tensor, reach: Int
    ) throws {
        let g = checked.geometry
        gradInput.store(ReferenceMath.affineResampleBackward(gradOutput: gradOutput.doubles, maps: AffineMap.maps(from: maps.values.map(Float.init)), g))
    }

    public func imagePenaltyBackward(
        _ checked: Checked<TensorShape>, image: Tensor, gradient: Tensor, output: Tensor, l2: Float, tv: Float
    ) throws {
        output.store(ReferenceMath.imagePenaltyBackward(
            image: image.doubles, gradient: gradient.doubles, l2: Double(l2), tv: Double(tv), shape: image.shape))
    }

    public func naturalPriorBackward(
        _ checked: Checked<TensorShape>, image: Tensor, center: Tensor, gradient: Tensor, output: Tensor,
        prior: NaturalImagePrior
    ) throws {
        output.store(ReferenceMath.naturalPriorBackward(image: image.doubles, center: center.doubles,
                                                        gradient: gradient.doubles, prior: prior, shape: image.shape))
    }

    public func addSeededNormal(_ checked: Checked<TensorShape>, into tensor: Tensor, seed: UInt64, firstNormal: UInt64,
                                scale: Float) throws {
        var random = SeededGenerator(seed: seed, skippingDraws: 2 &* firstNormal)
        tensor.store(tensor.doubles.map { $0 + Double(Float(Double(scale) * random.nextNormal())) })
    }

    public func adamStep(_ checked: Checked<TensorShape>, parameter: Tensor, gradient: Tensor, firstMoment: Tensor, secondMoment: Tensor, step: Int,
                         _ h: AdamParameters) throws {
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

    public func sgdStep(
        _ checked: Checked<TensorShape>, parameter: Tensor, gradient: Tensor, learningRate: Float
    ) throws {
        parameter.store(zip(parameter.doubles, gradient.doubles).map { $0 + Double(learningRate) * $1 })
    }
}

extension ReferenceBackend {
    public func diversityBackward(_ checked: Checked<DiversityGeometry>, activation: Tensor, gradient: Tensor, output: Tensor, weight: Float, scratch: Tensor)
        throws
    {
        let g = checked.geometry
        let dD = ReferenceMath.diversityGradient(activation: activation.doubles, g)
        output.store(zip(gradient.doubles, dD).map { $0 - Double(weight) * $1 })
    }
}
