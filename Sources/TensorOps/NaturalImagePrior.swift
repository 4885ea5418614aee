import Foundation

/// Mahendran & Vedaldi's natural-image priors ("Understanding Deep Image Representations by Inverting Them",
/// CVPR 2015; "Visualizing Deep Convolutional Neural Networks Using Natural Pre-images", IJCV 2016), on an image x
/// (N×C×H×W, [0, 1] units) centred on a colour c (one value per channel):
///
///     R(x) = λ_α / (H·W·B^α) · Σ_pixels ‖x[·,h,w] − c‖^α
///          + λ_TV / (H·W·V^β) · Σ_channels,pixels ((x[h,w+1] − x[h,w])² + (x[h+1,w] − x[h,w])²)^(β/2)
///
/// per image, ‖·‖ the Euclidean norm of a pixel's colour vector and a difference past the last row or column 0.
/// The α-norm keeps pixels within about B of the centre, the total variation keeps neighbours alike; dividing by
/// H·W·B^α and H·W·V^β makes each about 1 for a natural image of any size.
///
/// M&V weigh the data term by a constant C from 1 (deep layers) to 300 (the first), the priors by 1: λ = 1/C here.
/// The default 0.05 reconstructs every depth of an ImageNet model well in a few hundred steps; images far from
/// natural statistics, such as MNIST's black-and-white strokes (every stroke pixel far beyond B), want about 0.01.
public struct NaturalImagePrior: Hashable, Sendable {
    /// α: the norm's exponent (M&V: 6), at least 1.
    public var alpha: Float = 6
    public var alphaWeight: Float = 0.05
    /// β: the total variation's exponent (M&V: 2; 1 is the isotropic TV of image denoising), at least 1.
    public var beta: Float = 2
    public var tvWeight: Float = 0.05
    /// B: the typical deviation of a pixel from the centre, in image units (M&V: 80 of 255); V = B / 6.5.
    public var bound: Float = 80 / 255

    public init(alpha: Float = 6, alphaWeight: Float = 0.05, beta: Float = 2, tvWeight: Float = 0.05, bound: Float = 80 / 255) {
        (self.alpha, self.alphaWeight, self.beta, self.tvWeight, self.bound) = (alpha, alphaWeight, beta, tvWeight, bound)
    }

    /// V: the typical difference between neighbouring pixels.
    public var tvBound: Float { bound / 6.5 }

    /// The factors in front of the two sums for H×W images: λ_α / (H·W·B^α) and λ_TV / (H·W·V^β).
    public func coefficients(height: Int, width: Int) -> (alpha: Double, tv: Double) {
        let pixels = Double(height * width)
        return (Double(alphaWeight) / (pixels * pow(Double(bound), Double(alpha))),
                Double(tvWeight) / (pixels * pow(Double(tvBound), Double(beta))))
    }

    /// A one-line reason when the prior cannot be used, nil when it can.
    public var problem: String? {
        if !(alpha >= 1 && alpha <= 16) { return "--alpha must be from 1 to 16, got \(alpha)" }
        if !(beta >= 1 && beta <= 16) { return "--beta must be from 1 to 16, got \(beta)" }
        if !(alphaWeight >= 0 && alphaWeight.isFinite) { return "--alpha-weight must be finite and not negative, got \(alphaWeight)" }
        if !(tvWeight >= 0 && tvWeight.isFinite) { return "--tv-weight must be finite and not negative, got \(tvWeight)" }
        if !(bound > 0 && bound.isFinite) { return "the prior's bound must be positive, got \(bound)" }
        return nil
    }
}

/// The ascent direction with the natural-image priors' gradient subtracted (a fused backward pass).
public struct NaturalImagePriorCase: OpCase {
    public let shape: TensorShape
    public let prior: NaturalImagePrior

    init(shape: TensorShape, prior: NaturalImagePrior) {
        (self.shape, self.prior) = (shape, prior)
    }

    public var op: String { "natural_prior" }
    public var directions: [Direction] { [.backward] }
    public var shapeDescription: String { "x\(shape) α \(prior.alpha) β \(prior.beta)" }

    public func run<B: Backend>(_ direction: Direction, on backend: B, seed: UInt64) throws -> [ParityOutput] {
        var random = SeededGenerator(seed: seed)
        let image = try backend.upload(.randomNormal(shape, scale: 0.3, using: &random))
        let center = try backend.upload(.randomNormal([shape[1]], scale: 0.1, using: &random))
        let gradient = try backend.upload(.randomNormal(shape, using: &random)), result = try backend.makeTensor(shape)
        try backend.naturalPriorBackward(image: image, center: center, gradient: gradient, output: result, prior: prior)
        return [ParityOutput(name: "output", values: try backend.download(result).values)]
    }
}

extension Backend {
    public func naturalPriorBackward(image: Tensor, center: Tensor, gradient: Tensor, output: Tensor,
                                     prior: NaturalImagePrior) throws {
        try image.shape.requireNCHW("image", of: "natural_prior")
        try center.shape.require([image.shape[1]], "center", of: "natural_prior")
        let shape = try checkSameShapes([image.shape, gradient.shape, output.shape], roles: ["image", "gradient", "output"],
                                        of: "natural_prior")
        if let problem = prior.problem { throw ShapeError(op: "natural_prior", message: problem) }
        try naturalPriorBackward(Checked(shape), image: image, center: center, gradient: gradient, output: output, prior: prior)
    }
}
