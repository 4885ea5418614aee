import TensorOps

/// Lucid's transformation robustness: every step each image is seen shifted, scaled and rotated by a fresh random
/// amount, so the optimized pattern cannot rely on exact pixel positions. Drawn from the run's seeded generator,
/// so a seeded run repeats exactly.
struct RandomTransforms {
    let jitter: Int
    let scaleRange: ClosedRange<Float>
    let rotation: Float

    /// One map per image.
    func draw(count: Int, random: inout SeededGenerator) -> [AffineMap] {
        (0..<count).map { _ in
            let dx = Float(Int(random.next() % UInt64(2 * jitter + 1)) - jitter)
            let dy = Float(Int(random.next() % UInt64(2 * jitter + 1)) - jitter)
            let scale = scaleRange.lowerBound + Float(random.nextUniform()) * (scaleRange.upperBound - scaleRange.lowerBound)
            let degrees = (2 * Float(random.nextUniform()) - 1) * rotation
            return AffineMap(scale: scale, degrees: degrees, dx: dx, dy: dy)
        }
    }

    var isIdentity: Bool { jitter == 0 && scaleRange == 1...1 && rotation == 0 }
}
