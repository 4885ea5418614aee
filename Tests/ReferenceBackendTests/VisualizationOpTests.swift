import BackendParity
import Foundation
import ReferenceBackend
import TensorOps
import TestSupport
import Testing

/// The filter-visualization ops of the reference: hand-checked values (their gradients are checked by
/// finite differences with every op's, in FiniteDifferenceTests).
@Suite("Reference visualization ops")
struct VisualizationOpTests {
    @Test func irfft2OfPureFrequenciesGivesCosines() throws {
        // numpy.fft.irfft2 divides by H·W: a DC term of H·W is an image of ones; H·W/2 at column 1 is cos(2πw/W).
        let (height, width) = (4, 6)
        let g = try SpectrumGeometry(spectrum: [1, 1, height, 8], image: [1, 1, height, width])
        var spectrum = [Double](repeating: 0, count: g.spectrum.count)
        spectrum[0] = Double(height * width)
        #expect(ReferenceMath.irfft2Forward(spectrum: spectrum, g).allSatisfy { abs($0 - 1) < 1e-12 })
        spectrum[0] = 0
        spectrum[2] = Double(height * width) / 2
        let image = ReferenceMath.irfft2Forward(spectrum: spectrum, g)
        for (index, value) in image.enumerated() {
            #expect(abs(value - cos(2 * .pi * Double(index % width) / Double(width))) < 1e-12)
        }
        // The Nyquist column counts once and its imaginary part is ignored, as in numpy.
        spectrum[2] = 0
        spectrum[6] = Double(height * width)
        spectrum[7] = 123
        let nyquist = ReferenceMath.irfft2Forward(spectrum: spectrum, g)
        #expect(nyquist.enumerated().allSatisfy { abs($1 - ($0 % 2 == 0 ? 1 : -1)) < 1e-12 })
    }

    @Test func polarSpectrumKeepsEachMagnitude() throws {
        let g = try PolarSpectrumGeometry(magnitude: [1, 3, 4, 3], phase: [2, 3, 4, 3], spectrum: [2, 3, 4, 6])
        var random = SeededGenerator(seed: 34)
        let magnitude = random.normals(36).map(abs), phase = random.normals(72).map { 3 * $0 }
        let spectrum = ReferenceMath.polarSpectrumForward(magnitude: magnitude, phase: phase, g)
        // Each entry keeps its magnitude, whatever the phase, and the second image reuses the table.
        #expect((0..<72).allSatisfy { abs(hypot(spectrum[2 * $0], spectrum[2 * $0 + 1]) - magnitude[$0 % 36]) < 1e-12 })
    }

    @Test func standardizeGivesZeroMeanUnitDeviation() throws {
        let g = try StandardizeGeometry([[3, 2, 4, 5]], roles: ["input"])
        var random = SeededGenerator(seed: 35)
        let x = random.normals(g.shape.count).map { 2 + 3 * $0 }
        let y = ReferenceMath.standardizeForward(input: x, epsilon: .deviation(0), g)
        for image in 0..<3 {
            let values = y[(image * 40)..<((image + 1) * 40)]
            let mean = values.reduce(0, +) / 40
            #expect(abs(mean) < 1e-12)
            #expect(abs(values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 40 - 1) < 1e-12)
        }
    }

    @Test func affineResampleIdentityAndShift() throws {
        let shape: TensorShape = [2, 1, 5, 6]
        let g = try AffineResampleGeometry(input: shape, maps: [2, 6], output: shape)
        var random = SeededGenerator(seed: 32)
        let x = random.normals(shape.count)
        let identity = ReferenceMath.affineResampleForward(input: x, maps: [.identity, .identity], fill: 0.5, g)
        #expect(zip(identity, x).allSatisfy { abs($0 - $1) < 1e-6 })
        // Shifting right by one pixel: each output reads its left neighbour, and the first column reads the fill.
        let shifted = ReferenceMath.affineResampleForward(
            input: x, maps: [AffineMap(scale: 1, degrees: 0, dx: 1, dy: 0), .identity], fill: 0.5, g)
        #expect(abs(shifted[0] - 0.5) < 1e-6 && abs(shifted[1] - x[0]) < 1e-6)
    }

    /// Three crops of each of two images, each resized to 4×3: crop k of image n reads image n only, and the
    /// backward sums every crop's gradient into its image.
    @Test func affineResampleTakesCropsOfEachImage() throws {
        let g = try AffineResampleGeometry(input: [2, 2, 7, 9], maps: [6, 6], output: [6, 2, 4, 3])
        var random = SeededGenerator(seed: 33)
        let x = random.normals(g.input.count)
        let maps = (0..<6).map { _ in
            AffineMap(scale: Float(0.4 + random.nextUniform()), degrees: Float(30 * random.nextUniform() - 15),
                      dx: Float(2 * random.nextUniform() - 1), dy: Float(2 * random.nextUniform() - 1))
        }
        // Image 1 alone moved: only the crops 3–5 change.
        var moved = x
        for i in (g.input.count / 2)..<g.input.count { moved[i] += 1 }
        let before = ReferenceMath.affineResampleForward(input: x, maps: maps, fill: 0, g)
        let after = ReferenceMath.affineResampleForward(input: moved, maps: maps, fill: 0, g)
        let half = g.output.count / 2
        #expect(before[..<half] == after[..<half])
        #expect(before[half...] != after[half...])
        let dy = random.normals(g.output.count)
        expectClose(ReferenceMath.affineResampleBackward(gradOutput: dy, maps: maps, g),
                    FiniteDifference.gradient(at: x, outputWeights: dy) {
                        ReferenceMath.affineResampleForward(input: $0, maps: maps, fill: 0, g)
                    }, relativeL2: Tolerance.finiteDifference, "grad input")
        #expect(throws: ShapeError.self) { try AffineResampleGeometry(input: [2, 2, 7, 9], maps: [5, 6], output: [5, 2, 4, 3]) }
    }

    @Test func imagePenaltyIsTheNegativeGradientOfL2AndTotalVariation() throws {
        let shape: TensorShape = [1, 2, 4, 5]
        var random = SeededGenerator(seed: 33)
        let x = random.normals(shape.count)
        let zeros = [Double](repeating: 0, count: shape.count)
        let (l2, tv) = (0.3, 0.7)
        func penalty(_ image: [Double]) -> [Double] {
            var total = image.reduce(0) { $0 + l2 * ($1 - 0.5) * ($1 - 0.5) }
            for i in image.indices {
                let (h, w) = ((i / 5) % 4, i % 5)
                if w < 4 { total += tv * abs(image[i + 1] - image[i]) }
                if h < 3 { total += tv * abs(image[i + 5] - image[i]) }
            }
            return [total]
        }
        let ascent = ReferenceMath.imagePenaltyBackward(image: x, gradient: zeros, l2: l2, tv: tv, shape: shape)
        expectClose(ascent.map { -$0 }, FiniteDifference.gradient(at: x, outputWeights: [1], of: penalty),
                    relativeL2: Tolerance.finiteDifference, "penalty gradient")
    }

    /// Mahendran & Vedaldi's priors: the backward is the negative gradient of their sum, at M&V's exponents and
    /// at fractional ones; a flat image at the centre costs nothing.
    @Test(arguments: [(6.0, 2.0), (2.5, 1.5), (1.0, 1.0)])
    func naturalPriorIsTheNegativeGradientOfTheNormAndVariation(alpha: Double, beta: Double) throws {
        let shape: TensorShape = [2, 2, 4, 5]
        var random = SeededGenerator(seed: 35)
        let x = random.normals(shape.count).map { 0.5 + 0.3 * $0 }, center = [0.45, 0.55]
        let prior = NaturalImagePrior(alpha: Float(alpha), alphaWeight: 0.7, beta: Float(beta), tvWeight: 1.3, bound: 0.4)
        let zeros = [Double](repeating: 0, count: shape.count)
        let ascent = ReferenceMath.naturalPriorBackward(image: x, center: center, gradient: zeros, prior: prior, shape: shape)
        expectClose(ascent.map { -$0 }, FiniteDifference.gradient(at: x, outputWeights: [1, 1]) {
            ReferenceMath.naturalPrior(image: $0, center: center, prior: prior, shape: shape)
        }, relativeL2: Tolerance.finiteDifference, "prior gradient")
        let flat = (0..<shape.count).map { center[($0 / 20) % 2] }
        #expect(ReferenceMath.naturalPrior(image: flat, center: center, prior: prior, shape: shape) == [0, 0])
    }

    @Test func diversityGradientMatchesFiniteDifferences() throws {
        let g = try DiversityGeometry(activation: [3, 4, 2, 3])
        var random = SeededGenerator(seed: 34)
        let a = random.normals(g.activation.count)
        expectClose(ReferenceMath.diversityGradient(activation: a, g),
                    FiniteDifference.gradient(at: a, outputWeights: [1]) { [ReferenceMath.diversity(activation: $0, g)] },
                    relativeL2: Tolerance.finiteDifference, "grad activation")
        // Identical images are as similar as can be: every pair's cosine is 1, so D = N − 1.
        let same = Array(repeating: Array(a.prefix(24)), count: 3).flatMap { $0 }
        #expect(abs(ReferenceMath.diversity(activation: same, g) - 2) < 1e-12)
    }

    @Test func optimizersStepAlongTheGradient() throws {
        let backend = ReferenceBackend()
        let parameter = try backend.upload(HostTensor(shape: [2], values: [1, 1]))
        let gradient = try backend.upload(HostTensor(shape: [2], values: [2, -4]))
        try backend.sgdStep(parameter: parameter, gradient: gradient, learningRate: 0.5)
        #expect(parameter.values == [2, -1])
        // Adam's first step moves every coordinate by the learning rate in the gradient's sign.
        let m = try backend.makeTensor([2]), v = try backend.makeTensor([2])
        try backend.adamStep(parameter: parameter, gradient: gradient, firstMoment: m, secondMoment: v, step: 1,
                             AdamParameters(learningRate: 0.1))
        #expect(abs(parameter.values[0] - 2.1) < 1e-6 && abs(parameter.values[1] + 1.1) < 1e-6)
    }
}
