import TensorOps

extension ClassActivationMapper {
    /// Smooth Grad-CAM++'s channel weights N×K as torch-cam computes them, and the activation its map weighs. For
    /// each of S samples the input plus Gaussian noise (σ `sampling.noise`, drawn from `sampling.seed` in the order
    /// sample, image, channel, row, column, as torch-cam draws one input-sized tensor per sample) runs forward and
    /// back to the layer; the gradient's square and cube are averaged over the samples (float32, as torch sums them).
    /// Then α = ḡ² / (2ḡ² + Σ_positions(ḡ³ · A) + 10⁻⁸) with A the activation of the input itself, and the weight is
    /// Σ_positions α · ReLU(g) with g the last sample's gradient; torch-cam weighs the last sample's activation too
    /// (its hooks keep the last pass), and so does this. The gradients come back to the host (N×K×h×w each), where the
    /// sums run.
    func smoothGradCAMPlusPlusWeights(layer: String, input: B.Tensor, classes: [Int], scores: HostTensor)
        throws -> (weights: B.Tensor, activation: B.Tensor)
    {
        let clean = try backend.download(try spatialActivation(layer))
        let (images, channels) = (clean.shape[0], clean.shape[1]), plane = clean.shape[2] * clean.shape[3]
        let samples = sampling.samples(for: method), sigma = Double(sampling.noise(for: method))
        let pixels = try backend.download(input)
        var random = SeededGenerator(seed: sampling.seed)
        var square = [Float](repeating: 0, count: clean.values.count), cube = square, last = square
        for _ in 0..<samples {
            let noisy = HostTensor(shape: pixels.shape, values: pixels.values.map { $0 + Float(sigma * random.nextNormal()) })
            try executor.forward(try backend.upload(noisy))
            last = try backend.download(try gradientOfScores(at: layer, classes: classes, scores: scores)).values
            for (index, g) in last.enumerated() {
                square[index] += g * g
                cube[index] += g * g * g
            }
        }
        let count = Float(samples)
        var weights = [Float](repeating: 0, count: images * channels)
        for row in 0..<images * channels {
            let span = row * plane..<(row + 1) * plane
            var activity: Float = 0  // Σ_positions ḡ³ · A
            for index in span { activity += (cube[index] / count) * clean.values[index] }
            for index in span {
                let g2 = square[index] / count
                weights[row] += g2 / (2 * g2 + activity + 1e-8) * max(last[index], 0)
            }
        }
        return (try backend.upload(HostTensor(shape: [images, channels], values: weights)), try spatialActivation(layer))
    }
}
